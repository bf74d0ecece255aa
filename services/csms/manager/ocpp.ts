import type { OcppVersion } from "../../../contracts/csms/mqtt";

/** Parsing helpers for OCPP payloads the manager stores (meter values, boot info, reports). */

export type Sample = { at: Date; powerW: number | null; energyWh: number | null; socPct: number | null };

const num = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
};
const date = (v: unknown, fallback = new Date()) => {
  const d = typeof v === "string" ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : fallback;
};
export const parseTime = date;

type SampledValue = {
  value?: unknown;
  measurand?: unknown;
  phase?: unknown;
  unit?: unknown;
  unitOfMeasure?: { unit?: unknown; multiplier?: unknown };
};

/**
 * Power.Active.Import (W/kW), Energy.Active.Import.Register (Wh/kWh) and SoC (%) from 1.6
 * (string values, `unit`) or 2.0.1 (numbers, `unitOfMeasure` with multiplier) meter values.
 * Per-phase values are ignored; one sample per meterValue element that carries any of them.
 */
export const parseMeterValues = (meterValue: unknown): Sample[] => {
  if (!Array.isArray(meterValue)) return [];
  const samples: Sample[] = [];
  for (const mv of meterValue as { timestamp?: unknown; sampledValue?: unknown }[]) {
    if (!mv || !Array.isArray(mv.sampledValue)) continue;
    const s: Sample = { at: date(mv.timestamp), powerW: null, energyWh: null, socPct: null };
    for (const sv of mv.sampledValue as SampledValue[]) {
      if (!sv || sv.phase !== undefined) continue;
      let value = num(sv.value);
      if (value === null) continue;
      const multiplier = num(sv.unitOfMeasure?.multiplier);
      if (multiplier !== null) value *= 10 ** multiplier;
      const unit = String(sv.unit ?? sv.unitOfMeasure?.unit ?? "");
      const measurand = String(sv.measurand ?? "Energy.Active.Import.Register");
      if (measurand === "Power.Active.Import") s.powerW = unit === "kW" ? value * 1000 : value;
      else if (measurand === "Energy.Active.Import.Register") s.energyWh = unit === "kWh" ? value * 1000 : value;
      else if (measurand === "SoC") s.socPct = value;
    }
    if (s.powerW !== null || s.energyWh !== null || s.socPct !== null) samples.push(s);
  }
  return samples;
};

const str = (v: unknown, max = 100) => (typeof v === "string" ? v.slice(0, max) : null);

export const bootInfo = (version: OcppVersion, r: Record<string, unknown>) => {
  if (version === "ocpp1.6") {
    return {
      vendor: str(r.chargePointVendor),
      model: str(r.chargePointModel),
      firmwareVersion: str(r.firmwareVersion),
      serialNumber: str(r.chargePointSerialNumber) ?? str(r.chargeBoxSerialNumber),
    };
  }
  const cs = (r.chargingStation ?? {}) as Record<string, unknown>;
  return { vendor: str(cs.vendorName), model: str(cs.model), firmwareVersion: str(cs.firmwareVersion), serialNumber: str(cs.serialNumber) };
};
