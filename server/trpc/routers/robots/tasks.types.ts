import "server-only";
import { z } from "zod";
import { taskEventLogSchema, taskStateSchema } from "../../../../contracts/rmf";
import { ZLiveInput } from "../../live-procedure";
import { ZIdempotencyKey, ZLookupId } from "../common.types";

export { ZSubmitCommandResponseSchema as ZTaskCommandResponseSchema } from "../commands/commands.types";

/** The live task queue; `taskId` streams that one task only (the task page). */
export const ZOnTasksRequestSchema = ZLiveInput.extend({ taskId: ZLookupId.optional() }).optional();

export const ZGetTaskRequestSchema = z.object({ taskId: ZLookupId });
export const ZGetTaskResponseSchema = taskStateSchema;
export const ZGetTaskLogResponseSchema = taskEventLogSchema;

const place = z.string().trim().min(1, "Pick a place.").max(256);
const handler = z.string().trim().min(1, "Pick a handler.").max(256);
const fleet = z.string().trim().max(256).optional().transform((f) => f || undefined);

/** What the dispatch form sends: a patrol (places, rounds) or a delivery (pick up, drop off, one item). */
export const ZDispatchTaskRequestSchema = z.discriminatedUnion("category", [
  z.object({
    category: z.literal("patrol"),
    places: z.array(place).min(1, "Pick at least one place.").max(20, "At most 20 places."),
    rounds: z.number().int().min(1, "At least one round.").max(100, "At most 100 rounds."),
    fleet,
    idempotencyKey: ZIdempotencyKey,
  }),
  z.object({
    category: z.literal("delivery"),
    pickup: z.object({ place, handler }),
    dropoff: z.object({ place, handler }),
    sku: z.string().trim().min(1, "Name the item.").max(100),
    quantity: z.number().int().min(1, "At least 1.").max(1000, "At most 1000."),
    fleet,
    idempotencyKey: ZIdempotencyKey,
  }),
]);

export const ZDispatchOptionsResponseSchema = z.object({
  places: z.array(z.object({ name: z.string(), level: z.string() })),
  fleets: z.array(z.string()),
  dispensers: z.array(z.string()),
  ingestors: z.array(z.string()),
});

export const ZStopTaskRequestSchema = z.object({ taskId: ZLookupId, idempotencyKey: ZIdempotencyKey, confirm: z.boolean().optional() });
