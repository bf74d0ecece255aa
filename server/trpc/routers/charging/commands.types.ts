import "server-only";
import { z } from "zod";
import { ZCommandSpec, ZStationId } from "../../../../contracts/csms/commands";
import { MAX_BULK_STATIONS } from "../../../charging/send-bulk-command";
import { ZIdempotencyKey } from "../common.types";

export { ZSubmitCommandResponseSchema as ZSendCommandResponseSchema } from "../commands/commands.types";

/** What the stations table filters by (contracts/csms/station-filter.ts). */
export const ZStationFilter = z.object({
  q: z.string().max(48).optional(),
  online: z.boolean().optional(),
  protocol: z.enum(["ocpp1.6", "ocpp2.0.1"]).optional(),
  status: z.string().max(20).optional(),
});

export const ZSendCommandRequestSchema = ZCommandSpec.and(z.object({ stationId: ZStationId, idempotencyKey: ZIdempotencyKey, confirm: z.boolean().optional() }));

export const ZSendBulkCommandRequestSchema = ZCommandSpec.and(
  z.object({
    stationIds: z.array(ZStationId).min(1, "pick at least one station").max(MAX_BULK_STATIONS, `at most ${MAX_BULK_STATIONS} stations per bulk command`).optional(),
    filter: ZStationFilter.optional(),
    idempotencyKey: ZIdempotencyKey,
    confirm: z.boolean().optional(),
  }),
).superRefine((v, ctx) => {
  if (!v.stationIds === !v.filter) ctx.addIssue({ code: "custom", path: ["stationIds"], message: "give either stationIds or a filter" });
});
export const ZSendBulkCommandResponseSchema = z.object({ bulkId: z.string(), commandIds: z.array(z.string()) });
