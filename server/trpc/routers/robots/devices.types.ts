import "server-only";
import { z } from "zod";
import { ZIdempotencyKey } from "../common.types";

export { ZSubmitCommandResponseSchema as ZDeviceCommandResponseSchema } from "../commands/commands.types";

export const ZDoorRequestSchema = z.object({ door: z.string().min(1).max(256), mode: z.enum(["open", "close"]), idempotencyKey: ZIdempotencyKey });
export const ZLiftRequestSchema = z.object({
  lift: z.string().min(1).max(256),
  destination: z.string().trim().min(1, "Pick a floor.").max(256),
  doorMode: z.enum(["open", "closed"]).default("open"),
  idempotencyKey: ZIdempotencyKey,
});
export const ZRespondAlertRequestSchema = z.object({ alertId: z.string().min(1).max(256), response: z.string().min(1).max(256), idempotencyKey: ZIdempotencyKey });
