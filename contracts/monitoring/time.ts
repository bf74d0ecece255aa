/**
 * Sundaya timestamps: compact ISO 8601 (`YYYYMMDDTHHmmss.SSS±hhmm`). A POST must carry the
 * device's UTC offset (`±HHmm`, `±HH:mm`, `±HH` or `Z`); local time without one is refused,
 * as the Sundaya conventions require. Stored times use the canonical `YYYY-MM-DD HH:mm:ss.SSSS`.
 */
const TIME_LOCAL = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

export type ParsedTime = { utcMs: number; offsetMinutes: number };

/** The UTC offset `±HH:MM` of a parsed time (the stored `time_zone`). */
export const formatOffset = (offsetMinutes: number) => {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
};

const parseOffset = (raw: string): number | undefined => {
  if (raw === "Z") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(raw);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? "0");
  if (hours > 14 || minutes > 59) return undefined;
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
};

/** Parses `time_local`; returns an error message instead of throwing. */
export const parseTimeLocal = (value: string): ParsedTime | { error: string } => {
  const m = TIME_LOCAL.exec(value);
  if (!m) return { error: "must be YYYYMMDDTHHmmss[.SSS] followed by a UTC offset (±HHmm or Z)" };
  if (m[8] === undefined) return { error: "needs a UTC offset (±HHmm or Z): local time without one is ambiguous" };
  const offsetMinutes = parseOffset(m[8]);
  if (offsetMinutes === undefined) return { error: "has an invalid UTC offset" };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const ms = Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(local);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return { error: "is not a valid calendar date and time" };
  }
  return { utcMs: local - offsetMinutes * 60_000, offsetMinutes };
};

/** `YYYYMMDDTHHmmss.SSS±hhmm` of a UTC instant seen at `offsetMinutes` (what devices send). */
export const formatTimeLocal = (utcMs: number, offsetMinutes: number) => {
  const d = new Date(utcMs + offsetMinutes * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = formatOffset(offsetMinutes).replace(":", "");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}${off}`;
};

/** The canonical stored format `YYYY-MM-DD HH:mm:ss.SSSS` (UTC). */
export const formatCanonical = (utcMs: number) => `${new Date(utcMs).toISOString().slice(0, 23).replace("T", " ")}0`;
