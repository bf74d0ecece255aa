import "server-only";
import { z } from "zod";
import { ZIdempotencyKey } from "../common.types";

export { ZSubmitCommandResponseSchema as ZPingSiteResponseSchema } from "../commands/commands.types";
export const ZPingSiteRequestSchema = z.object({ idempotencyKey: ZIdempotencyKey });
