import "server-only";
import { z } from "zod";
import { exportAuditCsv, listAudit } from "../../../audit/list-audit";
import { writeAudit } from "../../../audit/write-audit";
import { procedure, requireUser, router } from "../../init";

export const ZAuditFilter = z
  .object({
    actor: z.string().trim().max(200).optional(),
    action: z.string().trim().max(200).optional(),
    outcome: z.enum(["ok", "error", "denied"]).optional(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: "'from' must be before 'to'", path: ["from"] });

export const auditRouter = router({
  list: procedure("audit.read")
    .input(z.object({ filter: ZAuditFilter.default({}), cursor: z.string().regex(/^\d+$/).nullish(), limit: z.number().int().min(1).max(200).default(50) }))
    .query(({ ctx, input }) => listAudit(ctx.db, { filter: input.filter, cursor: input.cursor, limit: input.limit })),

  /** The filtered log as CSV; the export itself is audited. */
  exportCsv: procedure("audit.export")
    .input(z.object({ filter: ZAuditFilter.default({}) }))
    .query(async ({ ctx, input }) => {
      const user = requireUser(ctx);
      const result = await exportAuditCsv(ctx.db, input.filter);
      await writeAudit(ctx.db, {
        actor: user,
        action: "audit.exportCsv",
        input: { ...input.filter, rows: result.rows },
        outcome: "ok",
        traceId: ctx.traceId,
        ip: ctx.ip,
      });
      return { ...result, filename: `switchyard-audit-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv` };
    }),
});
