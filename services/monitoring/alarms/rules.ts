import type { AlarmSeverity, AlarmType, MpptStatus } from "../../../contracts/monitoring";
import type { RecordDataset } from "../transform/derive-records";

/**
 * Threshold rules per device type. Each rule looks at one stored record (its metrics and
 * decoded status) and says which alarm conditions hold for that record's part (a pms pack,
 * or the whole device). Thresholds are settings, with defaults that fit a 14-cell 48 V pack.
 */
export type Condition = { severity: AlarmSeverity; message: string; details: Record<string, unknown> };

export type AlarmThresholds = {
  cellMinVolts: number;
  cellMaxVolts: number;
  /** Beyond these the cell alarm is critical rather than major. */
  cellCriticalMinVolts: number;
  cellCriticalMaxVolts: number;
  cellSpreadMinorMv: number;
  cellSpreadMajorMv: number;
  packTempMajorC: number;
  packTempCriticalC: number;
  /** Building metrics: name → bounds (either may be missing) and the severity beyond them. */
  building: Record<string, { min?: number; max?: number; severity: AlarmSeverity }>;
};

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  cellMinVolts: 3.0,
  cellMaxVolts: 4.25,
  cellCriticalMinVolts: 2.8,
  cellCriticalMaxVolts: 4.35,
  cellSpreadMinorMv: 100,
  cellSpreadMajorMv: 200,
  packTempMajorC: 50,
  packTempCriticalC: 60,
  building: {
    temperature: { min: 10, max: 30, severity: "minor" },
    co2: { max: 1500, severity: "major" },
    humidity: { min: 20, max: 70, severity: "warning" },
  },
};

/** The alarm types each dataset's records can raise (and so also clear). */
export const RULE_TYPES: Record<RecordDataset, AlarmType[]> = {
  pms: ["cell_voltage", "cell_imbalance", "pack_temperature", "bus_fault"],
  mppt: ["mppt_fault"],
  inverter: ["inverter_fault"],
  building: ["metric_threshold"],
};

const MPPT_FAULTS: { field: keyof MpptStatus; bad: string[]; severity: AlarmSeverity }[] = [
  { field: "system", bad: ["fault"], severity: "critical" },
  { field: "chgfet", bad: ["short"], severity: "critical" },
  { field: "chgfet_antirev", bad: ["short"], severity: "critical" },
  { field: "fet_antirev", bad: ["short"], severity: "critical" },
  { field: "pv_input", bad: ["short"], severity: "critical" },
  { field: "load", bad: ["short"], severity: "critical" },
  { field: "load", bad: ["overcurrent"], severity: "major" },
  { field: "input_current", bad: ["overcurrent"], severity: "major" },
  { field: "input", bad: ["high-volt-input", "input-volt-error"], severity: "major" },
  { field: "bus_connect", bad: ["false"], severity: "major" },
];

const worst = (a: AlarmSeverity, b: AlarmSeverity): AlarmSeverity => (["critical", "major", "minor", "warning", "indeterminate"].indexOf(a) <= ["critical", "major", "minor", "warning", "indeterminate"].indexOf(b) ? a : b);

export const evaluateRecord = (
  { dataset, part, metrics, status }: { dataset: RecordDataset; part: string; metrics: Record<string, number>; status: Record<string, unknown> | null },
  t: AlarmThresholds = DEFAULT_THRESHOLDS,
): Map<AlarmType, Condition> => {
  const out = new Map<AlarmType, Condition>();
  if (dataset === "pms") {
    const p = `pack.${part}`;
    const bad: { cell: number; volts: number }[] = [];
    let severity: AlarmSeverity = "major";
    for (let i = 1; i <= 14; i++) {
      const v = metrics[`${p}.cell.${i}.volts`];
      if (v === undefined || (v >= t.cellMinVolts && v <= t.cellMaxVolts)) continue;
      bad.push({ cell: i, volts: v });
      if (v < t.cellCriticalMinVolts || v > t.cellCriticalMaxVolts) severity = "critical";
    }
    if (bad.length) {
      out.set("cell_voltage", {
        severity,
        message: `pack ${part}: cell ${bad.map((b) => `${b.cell} at ${b.volts} V`).join(", ")} outside ${t.cellMinVolts}–${t.cellMaxVolts} V`,
        details: { pack: part, cells: bad, min: t.cellMinVolts, max: t.cellMaxVolts },
      });
    }
    const spread = metrics[`${p}.spread_mv`];
    if (spread !== undefined && spread > t.cellSpreadMinorMv) {
      out.set("cell_imbalance", {
        severity: spread > t.cellSpreadMajorMv ? "major" : "minor",
        message: `pack ${part}: cells ${spread} mV apart (limit ${t.cellSpreadMinorMv} mV)`,
        details: { pack: part, spreadMv: spread, limitMv: t.cellSpreadMinorMv },
      });
    }
    const temps = ["temp_top", "temp_mid", "temp_bottom", "fet.1.temp", "fet.2.temp"].map((k) => ({ where: k, c: metrics[`${p}.${k}`] })).filter((x) => x.c !== undefined);
    const hot = temps.filter((x) => x.c > t.packTempMajorC);
    if (hot.length) {
      out.set("pack_temperature", {
        severity: hot.some((x) => x.c > t.packTempCriticalC) ? "critical" : "major",
        message: `pack ${part}: ${hot.map((x) => `${x.where} ${x.c} °C`).join(", ")} above ${t.packTempMajorC} °C`,
        details: { pack: part, readings: hot, limit: t.packTempMajorC },
      });
    }
    if (status && status.bus_connect === false) out.set("bus_fault", { severity: "major", message: "data bus disconnected", details: { bus_connect: false } });
    return out;
  }
  if (dataset === "mppt" && status) {
    const found = MPPT_FAULTS.filter((f) => f.bad.includes(String(status[f.field])));
    if (found.length) {
      out.set("mppt_fault", {
        severity: found.map((f) => f.severity).reduce(worst),
        message: found.map((f) => `${f.field} ${String(status[f.field])}`).join(", "),
        details: Object.fromEntries(found.map((f) => [f.field, status[f.field]])),
      });
    }
    return out;
  }
  if (dataset === "inverter" && status && status.bus_connect === false) {
    out.set("inverter_fault", { severity: "critical", message: "inverter data bus fault (status bit 0)", details: { bus_connect: false } });
    return out;
  }
  if (dataset === "building") {
    const beyond = Object.entries(t.building).flatMap(([metric, rule]) => {
      const v = metrics[metric];
      if (v === undefined) return [];
      if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) return [{ metric, value: v, ...rule }];
      return [];
    });
    if (beyond.length) {
      out.set("metric_threshold", {
        severity: beyond.map((b) => b.severity).reduce(worst),
        message: beyond.map((b) => `${b.metric} ${b.value} outside ${b.min ?? "−∞"}–${b.max ?? "∞"}`).join(", "),
        details: { readings: beyond },
      });
    }
  }
  return out;
};
