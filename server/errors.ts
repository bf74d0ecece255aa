import "server-only";
import { TRPCError } from "@trpc/server";

type Code = "BAD_REQUEST" | "NOT_FOUND" | "CONFLICT" | "FORBIDDEN" | "PRECONDITION_FAILED" | "TOO_MANY_REQUESTS";

/**
 * The errors domain code may throw. They are tRPC errors, so the code reaches the browser
 * as is; `field` names the input field a form should mark.
 */
export class AppError extends TRPCError {
  readonly field?: string;
  constructor(code: Code, message: string, field?: string) {
    super({ code, message });
    this.field = field;
  }
}
