import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { seesParticipant } from "../../../flex/act-as";
import { exportSettlementsCsv } from "../../../flex/export-settlements-csv";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZExportSettlementsResponseSchema, ZOnSettlementsRequestSchema } from "./settlements.types";

export const settlementsRouter = router({
  /** Settlements per trade and period, live; a trader sees only their own participant's. */
  onChange: liveProcedure("flex.read", () => requireConnector("flex").store.settlements.feed, {
    input: ZOnSettlementsRequestSchema,
    filter: ({ ctx }) => (s) => seesParticipant(ctx.user, s.buyerId),
  }),

  /** What the caller may see as CSV; the export is audited. */
  exportCsv: procedure("flex.read")
    .output(ZExportSettlementsResponseSchema)
    .query(({ ctx }) => exportSettlementsCsv({ db: ctx.db, flex: requireConnector("flex"), user: ctx.user, traceId: ctx.traceId, ip: ctx.ip })),
});
