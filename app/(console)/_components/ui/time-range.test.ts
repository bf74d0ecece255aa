import { describe, expect, it } from "vitest";
import { DEFAULT_RANGE, parseTimeRange, refreshEveryMs, resolveTimeRange, timeRangeParams, timeTicks, zoomOut, zoomTo } from "./time-range";

describe("time ranges", () => {
  it("reads relative and custom ranges from the URL, anything else is the last hour", () => {
    expect(parseTimeRange({ range: "15m" })).toEqual({ kind: "relative", id: "15m" });
    expect(parseTimeRange({ range: "custom", from: "1000", to: "700000" })).toEqual({ kind: "custom", from: 1000, to: 700000 });
    for (const bad of [{}, { range: "2y" }, { range: "custom", from: "x", to: "1" }, { range: "custom", from: "5000", to: "6000" }]) expect(parseTimeRange(bad)).toEqual(DEFAULT_RANGE);
  });

  it("round-trips through URL params", () => {
    for (const r of [{ kind: "relative", id: "7d" }, { kind: "custom", from: 0, to: 3_600_000 }] as const) {
      const p = timeRangeParams(r);
      expect(parseTimeRange({ range: p.range ?? undefined, from: p.from ?? undefined, to: p.to ?? undefined })).toEqual(r);
    }
    expect(timeRangeParams(DEFAULT_RANGE).range).toBeNull();
  });

  it("resolves relative ranges against the clock, rounded to the refresh step", () => {
    expect(resolveTimeRange({ kind: "relative", id: "1h" }, 3_600_000 * 5 + 1234, 10_000)).toEqual({ from: 3_600_000 * 4, to: 3_600_000 * 5 });
    expect(resolveTimeRange({ kind: "custom", from: 5, to: 70_000 }, 1e12)).toEqual({ from: 5, to: 70_000 });
  });

  it("zooms in to a dragged span (either direction, at least a minute) and back out", () => {
    expect(zoomTo(200_000, 100_000)).toEqual({ kind: "custom", from: 100_000, to: 200_000 });
    expect(zoomTo(100_000, 100_001)).toEqual({ kind: "custom", from: 100_000, to: 160_000 });
    expect(zoomOut({ from: 1_000_000, to: 2_000_000 }, 10_000_000)).toEqual({ kind: "custom", from: 500_000, to: 2_500_000 });
    // Never past now.
    expect(zoomOut({ from: 1_000_000, to: 2_000_000 }, 2_000_000)).toEqual({ kind: "custom", from: 0, to: 2_000_000 });
  });

  it("refreshes about once per point, between 10 s and 5 min", () => {
    expect(refreshEveryMs({ from: 0, to: 15 * 60_000 })).toBe(10_000);
    expect(refreshEveryMs({ from: 0, to: 30 * 86_400_000 })).toBe(300_000);
  });
});

describe("chart ticks", () => {
  it("puts about six ticks on round times across the range", () => {
    const from = Date.UTC(2026, 11, 1, 10, 7);
    const ticks = timeTicks(from, from + 3_600_000);
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    expect(ticks.length).toBeLessThanOrEqual(7);
    expect(ticks.every((t) => t >= from && t <= from + 3_600_000)).toBe(true);
    expect(new Set(ticks.map((t, i) => (i ? t - ticks[i - 1]! : 0)).slice(1)).size).toBe(1);
  });
});
