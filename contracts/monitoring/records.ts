import { z } from "zod";
import type { Dataset } from "./datasets";

/**
 * The stored records (Sundaya tel_pms / tel_mppt / tel_inv): one per data item, arrays
 * flattened into objects with derived fields, plus sender and timestamps. The raw-data API
 * returns exactly these.
 */

const MPPT_INPUT = ["normal", "no-power", "high-volt-input", "input-volt-error"] as const;
const MPPT_LOAD = ["ok", "overcurrent", "short", "not-applicable"] as const;
const MPPT_CHARGING = ["not-charging", "float", "boost", "equalisation"] as const;

/**
 * A bit pair as the Sundaya table lists it: "1, 2 | 0, 1 → no-power" names bit 1 first, so
 * the value is (bit1 << 1) | bit2 — the lower-numbered bit is the high bit of the pair.
 */
const pair = (code: number, first: number) => (((code >> first) & 1) << 1) | ((code >> (first + 1)) & 1);
const bit = (code: number, n: number) => (code >> n) & 1;

export const decodeBusStatus = (hex: string) => ({ bus_connect: bit(parseInt(hex, 16), 0) === 1 });

export const decodeMpptStatus = (hex: string) => {
  const code = parseInt(hex, 16);
  return {
    bus_connect: bit(code, 0) === 1,
    input: MPPT_INPUT[pair(code, 1)],
    chgfet: bit(code, 3) ? ("short" as const) : ("ok" as const),
    chgfet_antirev: bit(code, 4) ? ("short" as const) : ("ok" as const),
    fet_antirev: bit(code, 5) ? ("short" as const) : ("ok" as const),
    input_current: bit(code, 6) ? ("overcurrent" as const) : ("ok" as const),
    load: MPPT_LOAD[pair(code, 7)],
    pv_input: bit(code, 9) ? ("short" as const) : ("ok" as const),
    charging: MPPT_CHARGING[pair(code, 10)],
    system: bit(code, 12) ? ("fault" as const) : ("ok" as const),
    standby: bit(code, 13) ? ("running" as const) : ("standby" as const),
  };
};
export type MpptStatus = ReturnType<typeof decodeMpptStatus>;

/** The inverse of decodeMpptStatus, for simulators. */
export const encodeMpptStatus = (s: Partial<MpptStatus>) => {
  let code = s.bus_connect === false ? 0 : 1;
  const setPair = (first: number, value: number) => {
    code |= ((value >> 1) & 1) << first;
    code |= (value & 1) << (first + 1);
  };
  setPair(1, MPPT_INPUT.indexOf(s.input ?? "normal"));
  if (s.chgfet === "short") code |= 1 << 3;
  if (s.chgfet_antirev === "short") code |= 1 << 4;
  if (s.fet_antirev === "short") code |= 1 << 5;
  if (s.input_current === "overcurrent") code |= 1 << 6;
  setPair(7, MPPT_LOAD.indexOf(s.load ?? "ok"));
  if (s.pv_input === "short") code |= 1 << 9;
  setPair(10, MPPT_CHARGING.indexOf(s.charging ?? "not-charging"));
  if (s.system === "fault") code |= 1 << 12;
  if (s.standby === "running") code |= 1 << 13;
  return code.toString(16).padStart(4, "0").toUpperCase();
};

const meta = {
  sender: z.string(),
  time_event: z.string(),
  time_zone: z.string(),
  time_processing: z.string(),
};
const vaw = z.object({ volts: z.number(), amps: z.number(), watts: z.number() });

export const pmsRecordSchema = z.object({
  pms_id: z.string(),
  pack_id: z.string(),
  pack: z.object({
    volts: z.number(),
    amps: z.number(),
    watts: z.number(),
    vcl: z.number(),
    vch: z.number(),
    dock: z.number(),
    temp_top: z.number(),
    temp_mid: z.number(),
    temp_bottom: z.number(),
  }),
  cell: z.array(z.object({ volts: z.number(), dvcl: z.number(), open: z.boolean() })),
  fet: z.array(z.object({ open: z.boolean(), temp: z.number() })),
  status: z.object({ bus_connect: z.boolean(), temp: z.number() }),
  ...meta,
});

const mpptStatusSchema = z.object({
  bus_connect: z.boolean(),
  input: z.enum(MPPT_INPUT),
  chgfet: z.enum(["ok", "short"]),
  chgfet_antirev: z.enum(["ok", "short"]),
  fet_antirev: z.enum(["ok", "short"]),
  input_current: z.enum(["ok", "overcurrent"]),
  load: z.enum(MPPT_LOAD),
  pv_input: z.enum(["ok", "short"]),
  charging: z.enum(MPPT_CHARGING),
  system: z.enum(["ok", "fault"]),
  standby: z.enum(["standby", "running"]),
});

export const mpptRecordSchema = z.object({ mppt_id: z.string(), pv: z.array(vaw), battery: vaw, load: z.array(vaw), status: mpptStatusSchema, ...meta });
export const inverterRecordSchema = z.object({
  inverter_id: z.string(),
  pv: z.array(vaw),
  battery: vaw,
  load: z.array(vaw),
  grid: z.array(z.object({ volts: z.number(), amps: z.number(), pf: z.number(), watts: z.number() })),
  status: z.object({ bus_connect: z.boolean() }),
  ...meta,
});

export type PmsRecord = z.infer<typeof pmsRecordSchema>;
export type MpptRecord = z.infer<typeof mpptRecordSchema>;
export type InverterRecord = z.infer<typeof inverterRecordSchema>;
export type DatasetRecord = { pms: PmsRecord; mppt: MpptRecord; inverter: InverterRecord };

/** Everything a stored row carries besides the record itself. */
export type StoredSampleKey = { dataset: Dataset | "building"; device: string; part: string; timeEvent: number };
