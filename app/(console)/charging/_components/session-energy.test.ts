import { describe, expect, it } from "vitest";
import { chartPoints } from "./session-energy";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();

describe("the Energy chart", () => {
  it("plots the session's energy (register − start), not the absolute register", () => {
    const points = chartPoints({
      meterStartWh: 18_000_000,
      samples: [
        { at: at(0), powerW: 11_000, energyWh: 18_000_000, socPct: null },
        { at: at(10), powerW: 11_000, energyWh: 18_000_500, socPct: 40 },
        { at: at(20), powerW: null, energyWh: null, socPct: null },
      ],
    });
    expect(points.map((p) => p.energyKwh)).toEqual([0, 0.5, null]);
    expect(points[0]!.powerKw).toBe(11);
  });

  it("takes the manager's session energy where the sample carries it", () => {
    const points = chartPoints({ meterStartWh: 1_000, samples: [{ at: at(0), powerW: 0, energyWh: 9_999_999, socPct: null, sessionEnergyWh: 250 }] });
    expect(points[0]!.energyKwh).toBe(0.25);
  });

  it("measures from the first reading when the station gave no start value", () => {
    const points = chartPoints({ meterStartWh: null, samples: [{ at: at(0), powerW: 0, energyWh: 2_000, socPct: null }, { at: at(5), powerW: 0, energyWh: 3_500, socPct: null }] });
    expect(points.map((p) => p.energyKwh)).toEqual([0, 1.5]);
  });
});
