import type { Rng } from "./rng";

/**
 * Just enough charging physics for believable meter values: power ramps towards the
 * smallest of charger rating, smart-charging limit and what the EV accepts; the EV tapers
 * above 80 % SoC; the energy register is the integral of power; SoC follows the energy
 * that reaches the battery.
 */

export type ChargerKind = "AC7" | "AC11" | "AC22" | "DC50";
export type Charger = {
  kind: ChargerKind;
  current: "AC" | "DC";
  maxPowerW: number;
  /** AC phases (DC chargers report 3, their grid side). */
  phases: 1 | 3;
  /** Phase voltage for AC, nominal battery-side voltage for DC. */
  voltage: number;
  /** OCPP 2.0.1 ConnectorEnumType. */
  connectorType: string;
};

export const CHARGERS: Record<ChargerKind, Charger> = {
  AC7: { kind: "AC7", current: "AC", maxPowerW: 7400, phases: 1, voltage: 230, connectorType: "cType2" },
  AC11: { kind: "AC11", current: "AC", maxPowerW: 11_000, phases: 3, voltage: 230, connectorType: "cType2" },
  AC22: { kind: "AC22", current: "AC", maxPowerW: 22_000, phases: 3, voltage: 230, connectorType: "cType2" },
  DC50: { kind: "DC50", current: "DC", maxPowerW: 50_000, phases: 3, voltage: 400, connectorType: "cCCS2" },
};

export type Ev = {
  batteryWh: number;
  /** On-board charger limit (AC) and battery limit (DC). */
  maxAcW: number;
  maxDcW: number;
  socPct: number;
  /** The driver leaves (demo behaviour) once this is reached. */
  targetSocPct: number;
};

export const randomEv = (rng: Rng, overrides: Partial<Ev> = {}): Ev => ({
  batteryWh: Math.round(rng.between(40_000, 100_000)),
  maxAcW: rng.pick([7400, 11_000, 11_000, 22_000]),
  maxDcW: rng.pick([50_000, 100_000, 150_000]),
  socPct: rng.between(10, 60),
  targetSocPct: rng.pick([80, 80, 90, 100]),
  ...overrides,
});

/** Fraction of its maximum an EV accepts at a given SoC: flat to 80 %, then down to 5 % near full. */
export const taperFactor = (socPct: number) => {
  if (socPct >= 100) return 0;
  if (socPct < 80) return 1;
  return Math.max(0.05, 1 - (0.95 * (socPct - 80)) / 20);
};

/** Share of metered energy that ends up in the battery (cable, charger and battery losses). */
export const CHARGING_EFFICIENCY = 0.93;

export type Flow = { powerW: number; energyWh: number };

/**
 * Advances one connector by `dtS` simulated seconds. Integrates in steps of at most one
 * second so a long step (high speed factor) still tapers smoothly. Mutates and returns.
 */
export const advanceCharging = ({ flow, ev, charger, limitW, dtS }: { flow: Flow; ev: Ev; charger: Charger; limitW: number; dtS: number }) => {
  // Power electronics reach full power within about ten seconds.
  const rampWPerS = charger.maxPowerW / 10;
  let remaining = Math.max(0, dtS);
  while (remaining > 1e-9) {
    const h = Math.min(1, remaining);
    remaining -= h;
    const accepts = (charger.current === "AC" ? ev.maxAcW : ev.maxDcW) * taperFactor(ev.socPct);
    const target = Math.max(0, Math.min(limitW, charger.maxPowerW, accepts));
    const p0 = flow.powerW;
    const p1 = p0 + Math.max(-rampWPerS * h, Math.min(rampWPerS * h, target - p0));
    // Trapezoid: exact for the linear ramp within the step.
    const dWh = (((p0 + p1) / 2) * h) / 3600;
    flow.energyWh += dWh;
    ev.socPct = Math.min(100, ev.socPct + ((dWh * CHARGING_EFFICIENCY) / ev.batteryWh) * 100);
    flow.powerW = ev.socPct >= 100 ? 0 : p1;
  }
  return flow;
};

/** Voltage and current that go with a power reading. */
export const electrical = (charger: Charger, powerW: number, socPct: number) => {
  if (charger.current === "AC") {
    const voltage = charger.voltage;
    return { voltage, currentA: powerW / (voltage * charger.phases) };
  }
  // A DC battery's voltage rises with its state of charge.
  const voltage = 350 + 0.8 * socPct;
  return { voltage, currentA: powerW / voltage };
};

/** Converts a smart-charging limit to watts. */
export const limitToWatts = (charger: Charger, unit: "W" | "A", limit: number, phases?: number) => {
  if (unit === "W") return limit;
  if (charger.current === "DC") return limit * charger.voltage;
  return limit * charger.voltage * (phases ?? charger.phases);
};
