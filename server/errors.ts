import "server-only";
import { TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "./connectors/kit/upstream-errors";

/**
 * Every error code domain code may throw, and the tRPC code (so the HTTP status) each one
 * reaches the browser as. The one place that mapping lives. The browser reads the app code
 * from `error.data.appCode` when it needs to tell, say, a dead upstream from a refused action.
 */
export const APP_ERROR_CODES = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  /** The domain's connector is switched off or was never started. */
  CONNECTOR_NOT_RUNNING: "PRECONDITION_FAILED",
  /** Nobody answered at the upstream's address. */
  UPSTREAM_UNREACHABLE: "PRECONDITION_FAILED",
  /** The upstream refused the console's own credentials (a configuration problem, not the user's). */
  UPSTREAM_REFUSED: "PRECONDITION_FAILED",
  /** The upstream failed (5xx or an unexpected status). */
  UPSTREAM_ERROR: "BAD_GATEWAY",
  /** The upstream's answer broke its contract; nothing of it was used. */
  UPSTREAM_CONTRACT: "BAD_GATEWAY",
} as const satisfies Record<string, TRPC_ERROR_CODE_KEY>;

export type AppErrorCode = keyof typeof APP_ERROR_CODES;

/**
 * The errors domain code throws. They are tRPC errors, so they reach the browser as is;
 * `field` names the input field a form should mark.
 */
export class AppError extends TRPCError {
  readonly appCode: AppErrorCode;
  readonly field?: string;
  constructor(code: AppErrorCode, message: string, field?: string) {
    super({ code: APP_ERROR_CODES[code], message });
    this.appCode = code;
    this.field = field;
  }
}

const listFields = (fields: { path: string; message: string }[]) => fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join("; ");

/**
 * An upstream failure in the words and codes the browser gets; what every caller of a
 * connector uses (`what` names the thing asked for, e.g. "Station CS-1", for NOT_FOUND).
 * Anything that is not an upstream error is returned unchanged.
 */
export const fromUpstream = (error: unknown, what = "That"): unknown => {
  if (error instanceof UpstreamUnreachableError) {
    return new AppError("UPSTREAM_UNREACHABLE", `${error.label} unreachable (${error.reason}). Check that it is running at ${error.url}.`);
  }
  if (error instanceof UpstreamContractError) {
    return new AppError("UPSTREAM_CONTRACT", `The ${error.label} answered in a shape the console does not understand (${error.issues[0] ?? error.what}); nothing of it was used.`);
  }
  if (!(error instanceof UpstreamHttpError)) return error;
  switch (error.status) {
    case 400:
    case 422:
      return new AppError("BAD_REQUEST", error.fields.length ? listFields(error.fields) : error.message, error.fields[0]?.path || undefined);
    case 404:
      return new AppError("NOT_FOUND", `${what} does not exist.`);
    case 409:
      return new AppError("CONFLICT", error.message);
    case 429:
      return new AppError("TOO_MANY_REQUESTS", `The ${error.label} is busy: ${error.message}`);
    case 401:
    case 403:
      return new AppError("UPSTREAM_REFUSED", `The ${error.label} refused the console's credentials${error.credentialsHint ? ` (check ${error.credentialsHint})` : ""}.`);
    default:
      return new AppError("UPSTREAM_ERROR", `${error.label} error (HTTP ${error.status}): ${error.message}`);
  }
};

/** Awaits an upstream call, mapping its failure with `fromUpstream`. */
export const viaUpstream = <T>(call: Promise<T>, what?: string): Promise<T> =>
  call.catch((error: unknown) => {
    throw fromUpstream(error, what);
  });
