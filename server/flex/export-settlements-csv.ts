import "server-only";
import { writeAudit } from "../audit/write-audit";
import { csvCell } from "../charging/export-messages-csv";
import type { FlexConnector } from "../connectors/flex";
import type { FlexSettlement } from "../connectors/flex/store";
import type { Db } from "../db";
import type { SessionUser } from "../trpc/init";
import { seesParticipant } from "./act-as";

export const SETTLEMENT_COLUMNS = [
  "nodeId",
  "tradeId",
  "requestId",
  "buyerId",
  "period",
  "periodEnd",
  "baselineW",
  "orderedW",
  "actualW",
  "deliveredW",
  "deficiencyW",
  "price",
  "payment",
  "penalty",
  "net",
  "settledAt",
] as const satisfies readonly (keyof FlexSettlement)[];

const TIME_COLUMNS = new Set<string>(["period", "periodEnd", "settledAt"]);

/** The settlements the caller may see (traders: their own), newest period first. */
export const visibleSettlements = (flex: FlexConnector, user: SessionUser) =>
  [...flex.store.settlements.values()].filter((s) => seesParticipant(user, s.buyerId)).sort((a, b) => b.period - a.period || a.tradeId.localeCompare(b.tradeId));

/** Settlements as CSV (times as ISO, money in EUR); the export itself is audited. */
export const exportSettlementsCsv = async ({ db, flex, user, traceId, ip }: { db: Db; flex: FlexConnector; user: SessionUser; traceId: string; ip: string | null }) => {
  const rows = visibleSettlements(flex, user);
  const lines = [SETTLEMENT_COLUMNS.join(","), ...rows.map((s) => SETTLEMENT_COLUMNS.map((c) => csvCell(TIME_COLUMNS.has(c) ? new Date(s[c] as number).toISOString() : s[c])).join(","))];
  await writeAudit(db, { actor: { id: user.id, email: user.email, role: user.role }, action: "flex.settlements.exportCsv", input: { rows: rows.length, participantId: user.participantId }, outcome: "ok", traceId, ip });
  return { csv: `${lines.join("\r\n")}\r\n`, rows: rows.length, truncated: false, filename: `switchyard-flex-settlements-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv` };
};
