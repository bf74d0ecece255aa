/**
 * Time ranges for charts: relative ones that follow the clock ("last hour") and custom ones
 * with fixed ends (typed in, or dragged on a chart to zoom). Kept in the URL as
 * `range=1h`, or `range=custom&from=<ms>&to=<ms>`, so a link shows the same window.
 */
export const RELATIVE_RANGES = [
  { id: "15m", label: "15 min", ms: 15 * 60_000 },
  { id: "1h", label: "1 hour", ms: 3_600_000 },
  { id: "24h", label: "24 hours", ms: 86_400_000 },
  { id: "7d", label: "7 days", ms: 7 * 86_400_000 },
  { id: "30d", label: "30 days", ms: 30 * 86_400_000 },
] as const;
export type RelativeRangeId = (typeof RELATIVE_RANGES)[number]["id"];

export type TimeRange = { kind: "relative"; id: RelativeRangeId } | { kind: "custom"; from: number; to: number };

export const DEFAULT_RANGE: TimeRange = { kind: "relative", id: "1h" };
/** The shortest window a zoom or a custom range may have. */
export const MIN_RANGE_MS = 60_000;

const relative = (id: string) => RELATIVE_RANGES.find((r) => r.id === id);

/** The range in URL values (`range`, `from`, `to`); anything unreadable is the default. */
export const parseTimeRange = ({ range, from, to }: { range?: string; from?: string; to?: string }): TimeRange => {
  if (range === "custom") {
    const f = Number(from);
    const t = Number(to);
    if (Number.isFinite(f) && Number.isFinite(t) && f >= 0 && t - f >= MIN_RANGE_MS) return { kind: "custom", from: Math.round(f), to: Math.round(t) };
    return DEFAULT_RANGE;
  }
  const r = range ? relative(range) : undefined;
  return r ? { kind: "relative", id: r.id } : DEFAULT_RANGE;
};

/** The URL values of a range (null removes a param). */
export const timeRangeParams = (r: TimeRange) =>
  r.kind === "custom" ? { range: "custom", from: String(r.from), to: String(r.to) } : { range: r.id === DEFAULT_RANGE.id ? null : r.id, from: null, to: null };

/** Its ends at `now`; a relative range ends at `now`, rounded down to `stepMs` so queries keyed on it change once per step. */
export const resolveTimeRange = (r: TimeRange, now: number, stepMs = 1): { from: number; to: number } => {
  if (r.kind === "custom") return { from: r.from, to: r.to };
  const to = Math.floor(now / stepMs) * stepMs;
  return { from: to - relative(r.id)!.ms, to };
};

/** A custom range zoomed on [a, b] (either order), at least MIN_RANGE_MS wide. */
export const zoomTo = (a: number, b: number): TimeRange => {
  const from = Math.min(a, b);
  const to = Math.max(a, b, from + MIN_RANGE_MS);
  return { kind: "custom", from: Math.round(from), to: Math.round(to) };
};

/** Twice as wide around the same middle (the keyboard's way out of a zoom). */
export const zoomOut = ({ from, to }: { from: number; to: number }, now: number): TimeRange => {
  const half = to - from;
  const end = Math.min(now, to + half / 2);
  return { kind: "custom", from: Math.round(end - 2 * half), to: Math.round(end) };
};

/** How often a chart over this range is worth re-reading: about one point's worth, 10 s to 5 min. */
export const refreshEveryMs = (r: { from: number; to: number }, points = 300) => Math.min(300_000, Math.max(10_000, Math.round((r.to - r.from) / points)));

export const describeTimeRange = (r: TimeRange, format: (ms: number) => string) =>
  r.kind === "custom" ? `${format(r.from)} – ${format(r.to)}` : `Last ${relative(r.id)!.label}`;

const TICK_STEPS = [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 2 * 86_400_000, 7 * 86_400_000];

/** About six ticks on round local times (whole minutes, hours, days) across the range. */
export const timeTicks = (from: number, to: number, count = 6) => {
  const step = TICK_STEPS.find((s) => (to - from) / s <= count) ?? TICK_STEPS.at(-1)!;
  const offset = new Date(from).getTimezoneOffset() * 60_000;
  const first = Math.ceil((from - offset) / step) * step + offset;
  const ticks: number[] = [];
  for (let t = first; t <= to; t += step) ticks.push(t);
  return ticks;
};
