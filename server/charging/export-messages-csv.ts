import "server-only";
import type { CsmsClient } from "../connectors/csms";

const COLUMNS = ["id", "at", "direction", "type", "action", "messageId", "errorCode", "payload"] as const;

/** One CSV cell: quoted when needed, and never a spreadsheet formula (= + - @ lead to a quote). */
export const csvCell = (value: unknown) => {
  let s = value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * A station's OCPP message log as CSV, newest first. The manager pages at most 1000 rows
 * per request, so this walks the pages until `limit` rows or the end of the log.
 */
export const exportMessagesCsv = async (client: CsmsClient, stationId: string, limit: number) => {
  const lines: string[] = [COLUMNS.join(",")];
  let cursor: string | null = null;
  let rows = 0;
  do {
    const page = await client.messages(stationId, { cursor, limit: Math.min(1000, limit - rows) });
    for (const m of page.items) lines.push(COLUMNS.map((c) => csvCell(m[c])).join(","));
    rows += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && rows < limit);
  return `${lines.join("\r\n")}\r\n`;
};
