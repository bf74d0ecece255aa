import "server-only";
import type { Db } from "../db";
import { exportAuditCsv, type AuditFilter } from "./list-audit";
import { writeAudit, type AuditInput } from "./write-audit";

/** The filtered log as CSV with a file name; the export itself is audited. */
export const exportAudit = async (db: Db, { filter, actor, traceId, ip }: { filter: AuditFilter; actor: NonNullable<AuditInput["actor"]>; traceId: string; ip: string | null }) => {
  const result = await exportAuditCsv(db, filter);
  await writeAudit(db, { actor, action: "audit.exportCsv", input: { ...filter, rows: result.rows }, outcome: "ok", traceId, ip });
  return { ...result, filename: `switchyard-audit-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv` };
};
