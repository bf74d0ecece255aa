import { encodeMpptStatus, formatTimeLocal, type DatasetBody } from "../../contracts/monitoring";
import type { Rng } from "../ocpp/rng";

/**
 * Plausible physics of a solar BTS site: PV follows the sun of the site's local time (with
 * passing clouds), the load draws a steady base, the battery takes the difference (charging
 * by day, discharging at night) and its state of charge moves the pack voltage; cells spread
 * by a few millivolts and warm with current. An inverter trades the surplus or shortfall
 * with the grid. Faults are injected states that the alarm rules should catch.
 */
export type Fault = "cell_low" | "pack_hot" | "mppt_short" | "inverter_bus" | "cell_spread";

export type SitePhysics = {
  soc: number;
  cloud: number;
  cellOffsets: number[][];
  faults: Map<Fault, number>;
};

const PACKS = 4;
const CELLS = 14;
const r = (n: number, dp = 3) => Math.round(n * 10 ** dp) / 10 ** dp;

export const createSitePhysics = (rng: Rng): SitePhysics => ({
  soc: rng.between(0.4, 0.8),
  cloud: rng.between(0, 0.3),
  cellOffsets: Array.from({ length: PACKS }, () => Array.from({ length: CELLS }, () => rng.between(-0.008, 0.008))),
  faults: new Map(),
});

/** Advances the site by `dtS` seconds at UTC time `t` and returns one sample of each dataset. */
export const stepSite = (
  s: SitePhysics,
  { rng, t, dtS, offsetMinutes, ids }: { rng: Rng; t: number; dtS: number; offsetMinutes: number; ids: { pms: string; mppt: string; inverter: string; packPrefix: string } },
) => {
  const localHour = (((t / 3_600_000 + offsetMinutes / 60) % 24) + 24) % 24;
  const sun = Math.max(0, Math.sin((Math.PI * (localHour - 6)) / 12));
  s.cloud = Math.min(0.9, Math.max(0, s.cloud + rng.between(-0.05, 0.05)));
  const irradiance = sun * (1 - s.cloud);
  const pvVolts = irradiance > 0.02 ? r(40 + 8 * irradiance + rng.between(-0.5, 0.5), 2) : r(rng.between(0, 2), 2);
  const pvAmps = [0, 1].map(() => r(Math.max(0, 8 * irradiance + rng.between(-0.2, 0.2)), 2));
  const batteryVolts = r(48 + 8 * s.soc + rng.between(-0.05, 0.05), 2);
  const loadAmps = [r(1.1 + rng.between(-0.1, 0.1), 2), r(6 + rng.between(-0.4, 0.4), 2)];
  const pvWatts = pvAmps.reduce((a, b) => a + b * pvVolts, 0);
  const loadWatts = loadAmps.reduce((a, b) => a + b * 48, 0);
  let gridWatts = 0;
  if (s.soc > 0.92 && pvWatts > loadWatts) gridWatts = pvWatts - loadWatts;
  else if (s.soc < 0.2) gridWatts = -(loadWatts + 300);
  const batteryWatts = pvWatts - loadWatts - gridWatts;
  const batteryAmps = r(batteryWatts / batteryVolts, 2);
  // 200 Ah battery: SoC moves by A × h / Ah.
  s.soc = Math.min(1, Math.max(0.05, s.soc + (batteryAmps * dtS) / 3600 / 200));

  const time_local = formatTimeLocal(t, offsetMinutes);
  const packAmps = r(batteryAmps / PACKS, 3);
  const cellBase = batteryVolts / CELLS;
  const hot = s.faults.has("pack_hot");
  const pms: DatasetBody["pms"] = {
    pms_id: ids.pms,
    status: { code: "0001", temp: r(30 + 10 * sun + rng.between(-0.5, 0.5), 1) },
    data: Array.from({ length: PACKS }, (_, p) => {
      const volts = s.cellOffsets[p].map((o, c) => {
        let v = cellBase + o + rng.between(-0.002, 0.002);
        if (p === 0 && c === 2 && s.faults.has("cell_low")) v = 2.62;
        if (p === 1 && c === 7 && s.faults.has("cell_spread")) v = cellBase + 0.15;
        return r(v, 3);
      });
      const warm = 25 + 8 * sun + Math.abs(packAmps) * 0.8 + (hot && p === 0 ? 32 : 0);
      return {
        time_local,
        pack: {
          id: `${ids.packPrefix}${p + 1}`,
          dock: p + 1,
          amps: packAmps,
          temp: [r(warm + 1, 1), r(warm, 1), r(warm - 1, 1)],
          cell: { open: volts.flatMap((v, c) => (v > cellBase + 0.006 ? [c + 1] : [])).slice(0, 2), volts },
          fet: { open: packAmps >= 0 ? [1, 2] : [2], temp: [r(warm + 2, 1), r(warm + 1, 1)] },
        },
      };
    }),
  };
  const charging = batteryAmps > 0.5 ? (s.soc > 0.9 ? "float" : "boost") : "not-charging";
  const mppt: DatasetBody["mppt"] = {
    mppt_id: ids.mppt,
    status: { code: encodeMpptStatus({ charging, standby: irradiance > 0.02 ? "running" : "standby", ...(s.faults.has("mppt_short") ? { chgfet: "short", system: "fault" } : {}) }) },
    data: [{ time_local, pv: { volts: [pvVolts, pvVolts], amps: pvAmps }, battery: { volts: batteryVolts, amps: batteryAmps }, load: { volts: [48, 48], amps: loadAmps } }],
  };
  const phaseAmps = r(gridWatts / (400 * 0.95 * Math.sqrt(3)) / 3, 3);
  const inverter: DatasetBody["inverter"] = {
    inverter_id: ids.inverter,
    status: { code: s.faults.has("inverter_bus") ? "0000" : "0001" },
    data: [
      {
        time_local,
        pv: { volts: [pvVolts], amps: [r(pvAmps[0] / 2, 2)] },
        battery: { volts: batteryVolts, amps: r(batteryAmps / 4, 2) },
        load: { volts: [230], amps: [r(1 + rng.between(-0.1, 0.1), 2)] },
        grid: { volts: [400, 400, 400], amps: [phaseAmps, phaseAmps, phaseAmps], pf: [0.95, 0.95, 0.95] },
      },
    ],
  };
  return { pms, mppt, inverter };
};

/** One building device's reading (generic metrics, by device type). */
export const buildingReading = (rng: Rng, type: "hvac" | "meter" | "sensor" | "lighting", localHour: number, fault: boolean): Record<string, number> => {
  const occupied = localHour > 7 && localHour < 19 ? 1 : 0.2;
  switch (type) {
    case "hvac":
      return { temperature: r(fault ? 33 + rng.between(0, 2) : 21 + rng.between(-1, 1), 1), humidity: r(45 + rng.between(-5, 5), 1), power: r(800 * occupied + rng.between(0, 200), 0) };
    case "meter":
      return { power: r(5000 * occupied + rng.between(0, 500), 0), voltage: r(230 + rng.between(-3, 3), 1) };
    case "lighting":
      return { power: r(300 * occupied + rng.between(0, 20), 0), lux: r(500 * occupied + rng.between(0, 50), 0) };
    default:
      return { temperature: r(22 + rng.between(-1.5, 1.5), 1), humidity: r(45 + rng.between(-5, 5), 1), co2: r(fault ? 1800 : 450 + 500 * occupied + rng.between(0, 100), 0) };
  }
};
