import {
  createConfig16,
  createVariables201,
  DEFAULT_SAMPLED,
  MEASURANDS,
  readValue,
  type Measurand,
  type VarDef,
} from "./config";
import type { Core } from "./core";

/**
 * The station's settings in its protocol's terms (1.6 configuration keys, 2.0.1 device-model
 * variables, both from config.ts) behind one lookup by (1.6 key, 2.0.1 component, variable).
 */

export const VENDOR = "Switchyard";

export const createSettings = ({ opts, id, v16, speed, model, charger, connectors, station, link, now, status201 }: Core) => {
  const n = connectors.length;
  const config16 = v16 ? createConfig16({ connectors: n, heartbeatIntervalS: link.heartbeatIntervalS, meterIntervalS: 10 }) : undefined;
  const vars201 = v16
    ? undefined
    : createVariables201({
        id,
        connectors: n,
        heartbeatIntervalS: link.heartbeatIntervalS,
        meterIntervalS: 10,
        model,
        vendor: VENDOR,
        phases: charger.phases,
        connectorType: charger.connectorType,
        maxPowerW: charger.maxPowerW,
        availability: (evseId) => (evseId ? status201(connectors[evseId - 1]) : station.operative ? "Available" : "Unavailable"),
        powerW: (evseId) => connectors[evseId - 1]?.flow.powerW ?? 0,
      });
  const var201 = (component: string, variable: string) => vars201?.find((v) => v.component.name === component && !v.component.evse && v.variable.name === variable);
  const setting = (key16: string, component: string, variable: string): VarDef | undefined => (v16 ? config16!.get(key16) : var201(component, variable));
  const settingValue = (key16: string, component: string, variable: string, fallback: string) => {
    const def = setting(key16, component, variable);
    return def ? readValue(def) : fallback;
  };
  const setSetting = (key16: string, component: string, variable: string, value: string) => {
    const def = setting(key16, component, variable);
    if (def) def.value = value;
  };
  // Speed shortens the interval, but not below a second of wall time: a fast demo should
  // show sessions quickly, not flood the CSMS with meter values.
  const meterIntervalMs = () =>
    opts.meterIntervalMs ??
    Math.max(1000, (Number(settingValue("MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", "10")) * 1000) / speed);
  const measurands = (which: "updated" | "started" | "ended"): Measurand[] => {
    const raw =
      which === "updated"
        ? settingValue("MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", DEFAULT_SAMPLED)
        : which === "started"
          ? settingValue("MeterValuesSampledData", "SampledDataCtrlr", "TxStartedMeasurands", DEFAULT_SAMPLED)
          : settingValue("StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register");
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((m): m is Measurand => (MEASURANDS as readonly string[]).includes(m));
  };
  const onSettingChanged = (name: string, value: string) => {
    if (name === "HeartbeatInterval") {
      link.heartbeatIntervalS = Number(value);
      link.nextHeartbeatAt = now() + link.heartbeatIntervalS * 1000;
    }
  };

  return { config16, vars201, settingValue, setSetting, meterIntervalMs, measurands, onSettingChanged };
};

export type Settings = ReturnType<typeof createSettings>;
