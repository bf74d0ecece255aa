import "server-only";
import { exportAudit } from "../../../audit/export-audit";
import { listAudit } from "../../../audit/list-audit";
import { procedure, router } from "../../init";
import { ZExportAuditRequestSchema, ZExportAuditResponseSchema, ZListAuditRequestSchema, ZListAuditResponseSchema } from "./audit.types";

export { ZAuditFilter } from "./audit.types";

export const auditRouter = router({
  list: procedure("audit.read")
    .input(ZListAuditRequestSchema)
    .output(ZListAuditResponseSchema)
    .query(({ ctx, input }) => listAudit(ctx.db, { filter: input.filter, cursor: input.cursor, limit: input.limit })),

  /** The filtered log as CSV; the export itself is audited. */
  exportCsv: procedure("audit.export")
    .input(ZExportAuditRequestSchema)
    .output(ZExportAuditResponseSchema)
    .query(({ ctx, input }) => exportAudit(ctx.db, { filter: input.filter, actor: ctx.user, traceId: ctx.traceId, ip: ctx.ip })),
});
