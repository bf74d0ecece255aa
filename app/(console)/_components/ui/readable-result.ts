/**
 * A command's stored result (JSON from an upstream) as fields a person reads: nested objects
 * become "Response › Status" labels, lists of scalars a comma list, lists of objects a small
 * table (e.g. a station's configuration keys). Nothing is dropped; nothing is shown as JSON
 * except a value nested too deep to lay out.
 */
export type ResultField = { label: string; value: string };
export type ResultTable = { label: string; columns: string[]; rows: string[][]; more: number };
export type ReadableResult = { fields: ResultField[]; tables: ResultTable[] };

const MAX_ROWS = 200;
const MAX_DEPTH = 4;

const WORDS: Record<string, string> = { ocpp: "OCPP", id: "id", evse: "EVSE", soc: "SoC", url: "URL", ms: "ms", w: "W", wh: "Wh" };

/** "ocppAction" → "OCPP action", "reasonCode" → "Reason code", "errorCode" → "Error code". */
export const humanizeKey = (key: string) => {
  const words = key
    .replace(/[_-]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .trim()
    .split(/\s+/)
    .map((w) => WORDS[w.toLowerCase()] ?? w.toLowerCase());
  const first = words[0] ?? key;
  return [first === first.toLowerCase() ? first[0]!.toUpperCase() + first.slice(1) : first, ...words.slice(1)].join(" ");
};

const scalar = (v: unknown): string | undefined => {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v === "" ? "(empty)" : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const cell = (v: unknown) => scalar(v) ?? (Array.isArray(v) && v.every((x) => scalar(x) !== undefined) ? v.map(scalar).join(", ") : JSON.stringify(v));

/** Flattens one row of a table: nested objects become "Component › Name" columns. */
const flattenRow = (row: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}, depth = 0) => {
  for (const [k, v] of Object.entries(row)) {
    const label = prefix ? `${prefix} › ${humanizeKey(k)}` : humanizeKey(k);
    if (isPlainObject(v) && depth < 2) flattenRow(v, label, out, depth + 1);
    else out[label] = v;
  }
  return out;
};

export const readableResult = (value: unknown): ReadableResult => {
  const fields: ResultField[] = [];
  const tables: ResultTable[] = [];
  const walk = (v: unknown, label: string, depth: number) => {
    const s = scalar(v);
    if (s !== undefined) {
      fields.push({ label, value: s });
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) fields.push({ label, value: "none" });
      else if (v.every((x) => scalar(x) !== undefined)) fields.push({ label, value: v.map(scalar).join(", ") });
      else if (v.every(isPlainObject)) {
        const flat = v.slice(0, MAX_ROWS).map((row) => flattenRow(row));
        const columns = [...new Set(flat.flatMap((r) => Object.keys(r)))];
        tables.push({ label, columns, rows: flat.map((r) => columns.map((c) => (c in r ? cell(r[c]) : ""))), more: Math.max(0, v.length - MAX_ROWS) });
      } else fields.push({ label, value: v.map(cell).join(", ") });
      return;
    }
    if (isPlainObject(v)) {
      if (depth >= MAX_DEPTH) {
        fields.push({ label, value: JSON.stringify(v) });
        return;
      }
      const entries = Object.entries(v);
      if (entries.length === 0 && label) fields.push({ label, value: "—" });
      for (const [k, x] of entries) walk(x, label ? `${label} › ${humanizeKey(k)}` : humanizeKey(k), depth + 1);
    }
  };
  walk(value, "", 0);
  return { fields, tables };
};
