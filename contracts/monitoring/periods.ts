/**
 * Sundaya read periods (`…/period/:period/:epoch/:duration`): the epoch is a compact date
 * (`YYYY[MM[DD[THH[mm[ss[.SSS]]]]]]`, then `Z` or `±HHmm`; UTC when omitted, as GET allows),
 * aligned down to the start of its period in the epoch's own offset; a negative duration
 * counts back from the epoch. Weeks start on Monday; `timeofday` is a 6-hour block.
 * Deviation: a partial epoch is filled with the start of the period (not blended with now).
 */
export const PERIODS = ["instant", "second", "minute", "qtrhour", "hour", "timeofday", "day", "week", "month", "quarter", "year", "fiveyear"] as const;
export type Period = (typeof PERIODS)[number];
export const isPeriod = (v: string): v is Period => (PERIODS as readonly string[]).includes(v);

/** The largest |duration| per period (the public host's caps, plus instant, second and minute). */
export const PERIOD_MAX_DURATION: Record<Period, number> = {
  instant: 1,
  second: 60,
  minute: 60,
  qtrhour: 8,
  hour: 6,
  timeofday: 8,
  day: 31,
  week: 12,
  month: 6,
  quarter: 8,
  year: 5,
  fiveyear: 5,
};

const FIXED_MS: Partial<Record<Period, number>> = {
  instant: 1,
  second: 1000,
  minute: 60_000,
  qtrhour: 900_000,
  hour: 3_600_000,
  timeofday: 6 * 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};
const MONTHS: Partial<Record<Period, number>> = { month: 1, quarter: 3, year: 12, fiveyear: 60 };

const EPOCH = /^(\d{4})(\d{2})?(\d{2})?(?:T(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export type ParsedEpoch = { localMs: number; offsetMinutes: number };

export const parseEpoch = (raw: string): ParsedEpoch | { error: string } => {
  const m = EPOCH.exec(raw);
  if (!m) return { error: "must be a compact date YYYY[MM[DD[THH[mm[ss]]]]] with an optional Z or ±HHmm" };
  const [year, month = 1, day = 1, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v, i) => (v === undefined ? (i < 3 ? 1 : 0) : Number(v)));
  const ms = Number((m[7] ?? "0").padEnd(3, "0"));
  const localMs = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(localMs);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return { error: "is not a valid calendar date" };
  let offsetMinutes = 0;
  if (m[8] && m[8] !== "Z") {
    const o = /^([+-])(\d{2}):?(\d{2})$/.exec(m[8])!;
    offsetMinutes = (o[1] === "-" ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3]));
    if (Math.abs(offsetMinutes) > 14 * 60) return { error: "has an invalid UTC offset" };
  }
  return { localMs, offsetMinutes };
};

/** Start of the period containing `localMs` (a local wall-clock time encoded as UTC ms). */
const alignLocal = (period: Period, localMs: number) => {
  const fixed = FIXED_MS[period];
  const d = new Date(localMs);
  if (period === "week") {
    const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return midnight - ((d.getUTCDay() + 6) % 7) * 86_400_000;
  }
  if (fixed) return Math.floor(localMs / fixed) * fixed;
  const months = MONTHS[period]!;
  const index = d.getUTCFullYear() * 12 + d.getUTCMonth();
  const start = Math.floor(index / months) * months;
  return Date.UTC(Math.floor(start / 12), start % 12, 1);
};

const addLocal = (period: Period, localMs: number, n: number) => {
  const fixed = FIXED_MS[period];
  if (fixed) return localMs + n * fixed;
  const d = new Date(localMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n * MONTHS[period]!, 1);
};

export type PeriodRange = { from: number; to: number; offsetMinutes: number; starts: number[] };

/** The UTC range [from, to) of `duration` periods at `epoch`, and each period's start. */
export const periodRange = (period: Period, epoch: ParsedEpoch, duration: number): PeriodRange => {
  const start = alignLocal(period, epoch.localMs);
  const first = duration < 0 ? addLocal(period, start, duration) : start;
  const count = Math.abs(duration);
  const startsLocal = Array.from({ length: count + 1 }, (_, i) => addLocal(period, first, i));
  const shift = epoch.offsetMinutes * 60_000;
  const starts = startsLocal.map((t) => t - shift);
  return { from: starts[0], to: starts[count], offsetMinutes: epoch.offsetMinutes, starts: starts.slice(0, count) };
};

/** A period start as a compact epoch in the request's offset (`20190204T0000+0700`). */
export const formatEpoch = (utcMs: number, offsetMinutes: number) => {
  const d = new Date(utcMs + offsetMinutes * 60_000);
  const p = (n: number) => String(n).padStart(2, "0");
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const off = offsetMinutes === 0 ? "Z" : `${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${off}`;
};
