import "server-only";
import type { Prisma } from "@prisma/client";
import type { Db } from "../db";

export type AuditFilter = {
  actor?: string;
  action?: string;
  outcome?: "ok" | "error" | "denied";
  from?: Date;
  to?: Date;
};

export const auditWhere = ({ actor, action, outcome, from, to }: AuditFilter): Prisma.AuditEntryWhereInput => ({
  ...(actor ? { actorEmail: { contains: actor.toLowerCase(), mode: "insensitive" } } : {}),
  ...(action ? { action: { startsWith: action } } : {}),
  ...(outcome ? { outcome } : {}),
  ...(from || to ? { at: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } : {}),
});

/** Newest first, keyset-paged by id so pages stay stable while entries keep arriving. */
export const listAudit = async (db: Db, { filter, cursor, limit }: { filter: AuditFilter; cursor?: string | null; limit: number }) => {
  const where = auditWhere(filter);
  const rows = await db.auditEntry.findMany({
    where: cursor ? { AND: [where, { id: { lt: BigInt(cursor) } }] } : where,
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const items = rows.slice(0, limit).map((r) => ({ ...r, id: r.id.toString() }));
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null, total: await db.auditEntry.count({ where }) };
};

const CSV_COLUMNS = ["id", "at", "actorEmail", "actorRole", "action", "target", "outcome", "error", "traceId", "ip", "input"] as const;

const csvCell = (value: unknown) => {
  if (value === null || value === undefined) return "";
  let text = value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
  // Cells that a spreadsheet would run as a formula are prefixed, then everything is quoted.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
};

export const AUDIT_EXPORT_MAX_ROWS = 100_000;

export const exportAuditCsv = async (db: Db, filter: AuditFilter) => {
  const rows = await db.auditEntry.findMany({ where: auditWhere(filter), orderBy: { id: "desc" }, take: AUDIT_EXPORT_MAX_ROWS });
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(c === "id" ? r.id.toString() : r[c])).join(","));
  return { csv: `${lines.join("\r\n")}\r\n`, rows: rows.length, truncated: rows.length === AUDIT_EXPORT_MAX_ROWS };
};
