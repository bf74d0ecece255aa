import {
  decodeBusStatus,
  decodeMpptStatus,
  formatCanonical,
  formatOffset,
  parseTimeLocal,
  type BuildingRecord,
  type BuildingTelemetry,
  type Dataset,
  type DatasetBody,
  type InverterRecord,
  type MpptRecord,
  type PmsRecord,
} from "../../../contracts/monitoring";

/**
 * The Producer's transform (Sundaya tel_pms / tel_mppt / tel_inv): one stored record per
 * data item with its derived fields, and the flat metric map that rollups, latest values
 * and alarms read. Metrics are computed from the stored record alone, so the rollups can be
 * rebuilt from the landing zone after a crash.
 */
export type RecordDataset = Dataset | "building";

export type StoredRecord = {
  dataset: RecordDataset;
  device: string;
  /** pms: the pack id (one record per pack and time); '' otherwise. */
  part: string;
  timeEvent: number;
  site: string;
  sender: string;
  timeZone: string;
  timeProcessing: number;
  record: PmsRecord | MpptRecord | InverterRecord | BuildingRecord;
  /** Computed once by metricsFor (rollups, latest values and alarms all read it). */
  metrics?: Record<string, number>;
};

export const recordKey = (r: { dataset: string; device: string; part: string; timeEvent: number }) => `${r.dataset}|${r.device}|${r.part}|${r.timeEvent}`;

const r3 = (n: number) => Math.round(n * 1000) / 1000;
const r4 = (n: number) => Math.round(n * 10_000) / 10_000;
const vaw = (volts: number, amps: number) => ({ volts, amps, watts: r3(volts * amps) });
const zip = (volts: number[], amps: number[]) => volts.map((v, i) => vaw(v, amps[i]));

type Meta = { site: string; sender: string; processedAt: number };

const timing = (timeLocal: string) => {
  const t = parseTimeLocal(timeLocal);
  // The ingest validated it; a failure here is a bug upstream, not bad input.
  if ("error" in t) throw new Error(`time_local ${timeLocal} ${t.error}`);
  return { timeEvent: t.utcMs, timeZone: formatOffset(t.offsetMinutes) };
};

export const deriveRecords = <D extends Dataset>(dataset: D, body: DatasetBody[D], { site, sender, processedAt }: Meta): StoredRecord[] => {
  // Hot path (every record): the same processing time for the whole dataset, no spreads.
  const timeProcessing = formatCanonical(processedAt);
  const stored = (device: string, part: string, timeEvent: number, timeZone: string, record: StoredRecord["record"]): StoredRecord => ({
    dataset,
    device,
    part,
    timeEvent,
    site,
    sender,
    timeZone,
    timeProcessing: processedAt,
    record,
  });
  if (dataset === "pms") {
    const ds = body as DatasetBody["pms"];
    const status = decodeBusStatus(ds.status.code);
    return ds.data.map((item) => {
      const { timeEvent, timeZone } = timing(item.time_local);
      const volts = item.pack.cell.volts;
      const vcl = Math.min(...volts);
      const vch = Math.max(...volts);
      const packVolts = r4(volts.reduce((a, b) => a + b, 0));
      const record: PmsRecord = {
        pms_id: ds.pms_id,
        pack_id: item.pack.id,
        pack: {
          volts: packVolts,
          amps: item.pack.amps,
          watts: r3(packVolts * item.pack.amps),
          vcl,
          vch,
          dock: item.pack.dock,
          temp_top: item.pack.temp[0],
          temp_mid: item.pack.temp[1],
          temp_bottom: item.pack.temp[2],
        },
        cell: volts.map((v, i) => ({ volts: v, dvcl: Math.round((v - vcl) * 1000), open: item.pack.cell.open.includes(i + 1) })),
        // Each FET from its own reading (the public host fills both from FET 1, a bug).
        fet: item.pack.fet.temp.map((temp, i) => ({ open: item.pack.fet.open.includes(i + 1), temp })),
        status: { ...status, temp: ds.status.temp },
        sender,
        time_event: formatCanonical(timeEvent),
        time_zone: timeZone,
        time_processing: timeProcessing,
      };
      return stored(ds.pms_id, item.pack.id, timeEvent, timeZone, record);
    });
  }
  if (dataset === "mppt") {
    const ds = body as DatasetBody["mppt"];
    const status = decodeMpptStatus(ds.status.code);
    return ds.data.map((item) => {
      const { timeEvent, timeZone } = timing(item.time_local);
      const record: MpptRecord = {
        mppt_id: ds.mppt_id,
        pv: zip(item.pv.volts, item.pv.amps),
        battery: vaw(item.battery.volts, item.battery.amps),
        load: zip(item.load.volts, item.load.amps),
        status,
        sender,
        time_event: formatCanonical(timeEvent),
        time_zone: timeZone,
        time_processing: timeProcessing,
      };
      return stored(ds.mppt_id, "", timeEvent, timeZone, record);
    });
  }
  const ds = body as DatasetBody["inverter"];
  const status = decodeBusStatus(ds.status.code);
  return ds.data.map((item) => {
    const { timeEvent, timeZone } = timing(item.time_local);
    // Line-to-line volts on three phases: P = V × I × pf × √3 per phase (tel_inv).
    const phaseFactor = item.grid.volts.length === 3 ? Math.sqrt(3) : 1;
    const grid = item.grid.volts.map((volts, i) => ({ volts, amps: item.grid.amps[i], pf: item.grid.pf[i], watts: r3(volts * item.grid.amps[i] * item.grid.pf[i] * phaseFactor) }));
    const record: InverterRecord = {
      inverter_id: ds.inverter_id,
      pv: zip(item.pv.volts, item.pv.amps),
      battery: vaw(item.battery.volts, item.battery.amps),
      load: zip(item.load.volts, item.load.amps),
      grid,
      status,
      sender,
      time_event: formatCanonical(timeEvent),
      time_zone: timeZone,
      time_processing: timeProcessing,
    };
    return stored(ds.inverter_id, "", timeEvent, timeZone, record);
  });
};

export const deriveBuildingRecord = (
  { building, device, telemetry }: { building: string; device: string; telemetry: BuildingTelemetry },
  { site, sender, processedAt }: Meta,
): StoredRecord => {
  const timeEvent = Date.parse(telemetry.time);
  const m = /([+-]\d{2}):?(\d{2})$/.exec(telemetry.time);
  const timeZone = m ? `${m[1]}:${m[2]}` : "+00:00";
  const record: BuildingRecord = {
    building,
    device,
    type: telemetry.type,
    metrics: telemetry.metrics,
    sender,
    time_event: formatCanonical(timeEvent),
    time_zone: timeZone,
    time_processing: formatCanonical(processedAt),
  };
  return { dataset: "building", device: `${building}:${device}`, part: "", timeEvent, site, sender, timeZone, timeProcessing: processedAt, record };
};

/** Adds `<prefix>.<n>.volts|amps|watts` of each input; returns Σ watts (of |watts| when `abs`). */
const addInputs = (out: Record<string, number>, prefix: string, inputs: { volts: number; amps: number; watts: number }[], abs: boolean) => {
  let total = 0;
  for (let i = 0; i < inputs.length; i++) {
    const names = phaseNames(prefix, i);
    out[names.volts] = inputs[i].volts;
    out[names.amps] = inputs[i].amps;
    out[names.watts] = inputs[i].watts;
    total += abs ? Math.abs(inputs[i].watts) : inputs[i].watts;
  }
  return total;
};

/** Metric names of the n-th pv / load / grid input, built once (the hot path builds no strings). */
const PHASE_NAMES = new Map<string, { volts: string; amps: string; watts: string; pf: string }[]>();
const phaseNames = (prefix: string, i: number) => {
  let list = PHASE_NAMES.get(prefix);
  if (!list) PHASE_NAMES.set(prefix, (list = []));
  return (list[i] ??= { volts: `${prefix}.${i + 1}.volts`, amps: `${prefix}.${i + 1}.amps`, watts: `${prefix}.${i + 1}.watts`, pf: `${prefix}.${i + 1}.pf` });
};

/**
 * The flat metrics of a stored record: what charts, rollups, latest values and alarms use.
 * Energy flows get metrics of their own (battery in/out, grid sell/buy) so that a bucket's
 * average never nets charge against discharge.
 */
export const metricsOf = (dataset: RecordDataset, record: StoredRecord["record"]): Record<string, number> => {
  const out: Record<string, number> = {};
  if (dataset === "pms") {
    const r = record as PmsRecord;
    const p = `pack.${r.pack_id}`;
    out["status.temp"] = r.status.temp;
    for (const k of ["volts", "amps", "watts", "vcl", "vch", "temp_top", "temp_mid", "temp_bottom"] as const) out[`${p}.${k}`] = r.pack[k];
    out[`${p}.spread_mv`] = Math.round((r.pack.vch - r.pack.vcl) * 1000);
    r.cell.forEach((c, i) => (out[`${p}.cell.${i + 1}.volts`] = c.volts));
    r.fet.forEach((f, i) => (out[`${p}.fet.${i + 1}.temp`] = f.temp));
    return out;
  }
  if (dataset === "building") {
    const r = record as BuildingRecord;
    return { ...r.metrics };
  }
  const r = record as MpptRecord | InverterRecord;
  out["pv.watts"] = r3(addInputs(out, "pv", r.pv, false));
  out["battery.volts"] = r.battery.volts;
  out["battery.amps"] = r.battery.amps;
  out["battery.watts"] = r.battery.watts;
  out["battery.in_watts"] = Math.max(0, r.battery.watts);
  out["battery.out_watts"] = Math.max(0, -r.battery.watts);
  out["load.watts"] = r3(addInputs(out, "load", r.load, true));
  if ("grid" in r) {
    let net = 0;
    for (let i = 0; i < r.grid.length; i++) {
      const names = phaseNames("grid", i);
      out[names.volts] = r.grid[i].volts;
      out[names.amps] = r.grid[i].amps;
      out[names.pf] = r.grid[i].pf;
      out[names.watts] = r.grid[i].watts;
      net += r.grid[i].watts;
    }
    net = r3(net);
    out["grid.watts"] = net;
    // grid.amps > 0 feeds the grid (sell), < 0 draws from it (buy).
    out["grid.sell_watts"] = Math.max(0, net);
    out["grid.buy_watts"] = Math.max(0, -net);
  }
  return out;
};

export const metricsFor = (r: StoredRecord) => (r.metrics ??= metricsOf(r.dataset, r.record));

/** The decoded status of a record (for the device view), without metadata. */
export const statusOf = (record: StoredRecord["record"]) => ("status" in record ? (record.status as Record<string, unknown>) : null);

/** Metric names that feed each energy flow of the Energy API (MJ = Σ avg W × seconds / 1e6). */
export const ENERGY_METRICS = {
  harvest: "pv.watts",
  "store.in": "battery.in_watts",
  "store.out": "battery.out_watts",
  yield: "load.watts",
  sell: "grid.sell_watts",
  buy: "grid.buy_watts",
} as const;
