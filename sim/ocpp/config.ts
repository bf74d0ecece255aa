import type { Component201, Variable201 } from "../../contracts/csms/commands";
/**
 * A simulated station's settings: OCPP 1.6 configuration keys and OCPP 2.0.1 device-model
 * variables, with the validation and mutability a real station applies.
 */

export type VarType = "integer" | "boolean" | "string" | "MemberList" | "OptionList" | "SequenceList";

export type VarDef = {
  type: VarType;
  readonly: boolean;
  value: string;
  /** Allowed members (MemberList) or options (OptionList). */
  values?: readonly string[];
  unit?: string;
  /** Lower bound for integers. */
  min?: number;
  /** Computed at read time (live state such as AvailabilityState). */
  get?: () => string;
};

export const MEASURANDS = ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC"] as const;
export type Measurand = (typeof MEASURANDS)[number];
export const DEFAULT_SAMPLED = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC";

/** Why a value is not acceptable, or undefined when it is. */
export const invalidValue = (def: VarDef, value: string): string | undefined => {
  switch (def.type) {
    case "integer":
      if (!/^\d{1,9}$/.test(value)) return "not a non-negative integer";
      if (def.min !== undefined && Number(value) < def.min) return `below ${def.min}`;
      return undefined;
    case "boolean":
      return value === "true" || value === "false" ? undefined : "not true/false";
    case "MemberList":
    case "SequenceList": {
      if (value === "") return undefined;
      const bad = value.split(",").find((m) => def.values && !def.values.includes(m.trim()));
      return bad === undefined ? undefined : `unknown member ${bad}`;
    }
    case "OptionList":
      return def.values && !def.values.includes(value) ? "not an allowed option" : undefined;
    case "string":
      return value.length > 500 ? "longer than 500 characters" : undefined;
  }
};

export const readValue = (def: VarDef) => (def.get ? def.get() : def.value);

// ---------- OCPP 1.6 ----------

export type Config16Context = { connectors: number; heartbeatIntervalS: number; meterIntervalS: number };

export const createConfig16 = (ctx: Config16Context): Map<string, VarDef> => {
  const int = (value: number, readonly = false, min = 0): VarDef => ({ type: "integer", readonly, value: String(value), min });
  const bool = (value: boolean, readonly = false): VarDef => ({ type: "boolean", readonly, value: String(value) });
  const list = (value: string, readonly = false): VarDef => ({ type: "MemberList", readonly, value, values: MEASURANDS });
  const str = (value: string, readonly = false): VarDef => ({ type: "string", readonly, value });
  return new Map<string, VarDef>([
    ["AllowOfflineTxForUnknownId", bool(false)],
    ["AuthorizationCacheEnabled", bool(true)],
    ["AuthorizeRemoteTxRequests", bool(false)],
    ["ClockAlignedDataInterval", int(0)],
    ["ConnectionTimeOut", int(60)],
    ["ConnectorPhaseRotation", str("NotApplicable")],
    ["GetConfigurationMaxKeys", int(50, true)],
    ["HeartbeatInterval", int(ctx.heartbeatIntervalS, false, 1)],
    ["LocalAuthorizeOffline", bool(true)],
    ["LocalPreAuthorize", bool(false)],
    ["MeterValuesAlignedData", list("Energy.Active.Import.Register")],
    ["MeterValuesSampledData", list(DEFAULT_SAMPLED)],
    ["MeterValueSampleInterval", int(ctx.meterIntervalS, false, 1)],
    ["NumberOfConnectors", int(ctx.connectors, true)],
    ["ResetRetries", int(3)],
    ["StopTransactionOnEVSideDisconnect", bool(true)],
    ["StopTransactionOnInvalidId", bool(true)],
    ["StopTxnAlignedData", list("")],
    ["StopTxnSampledData", list("Energy.Active.Import.Register")],
    ["SupportedFeatureProfiles", str("Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger", true)],
    ["TransactionMessageAttempts", int(3)],
    ["TransactionMessageRetryInterval", int(60)],
    ["UnlockConnectorOnEVSideDisconnect", bool(true)],
    ["WebSocketPingInterval", int(30)],
    ["LocalAuthListEnabled", bool(true)],
    ["LocalAuthListMaxLength", int(100, true)],
    ["SendLocalListMaxLength", int(20, true)],
    ["ChargeProfileMaxStackLevel", int(10, true)],
    ["ChargingScheduleAllowedChargingRateUnit", str("Current,Power", true)],
    ["ChargingScheduleMaxPeriods", int(24, true)],
    ["MaxChargingProfilesInstalled", int(10, true)],
  ]);
};

// ---------- OCPP 2.0.1 ----------

export type Component = Component201;
export type Variable = Variable201;
export type DeviceVar = VarDef & { component: Component; variable: Variable };

export type Variables201Context = {
  id: string;
  connectors: number;
  heartbeatIntervalS: number;
  meterIntervalS: number;
  model: string;
  vendor: string;
  phases: number;
  connectorType: string;
  maxPowerW: number;
  /** "Available" | "Occupied" | "Unavailable" | "Faulted" … for the station (evse 0) or an EVSE. */
  availability: (evseId?: number) => string;
  powerW: (evseId: number) => number;
};

export const sameComponent = (a: Component, b: Component) =>
  a.name === b.name &&
  (a.instance ?? "") === (b.instance ?? "") &&
  (a.evse?.id ?? 0) === (b.evse?.id ?? 0) &&
  // A request without a connector id addresses the EVSE-level component.
  (a.evse?.connectorId ?? 0) === (b.evse?.connectorId ?? 0);
export const sameVariable = (a: Variable, b: Variable) => a.name === b.name && (a.instance ?? "") === (b.instance ?? "");

export const createVariables201 = (ctx: Variables201Context): DeviceVar[] => {
  const v = (component: string | Component, variable: string, def: VarDef): DeviceVar => ({
    ...def,
    component: typeof component === "string" ? { name: component } : component,
    variable: { name: variable },
  });
  const int = (value: number, readonly = false, unit?: string, min = 0): VarDef => ({ type: "integer", readonly, value: String(value), unit, min });
  const bool = (value: boolean, readonly = false): VarDef => ({ type: "boolean", readonly, value: String(value) });
  const str = (value: string, readonly = true): VarDef => ({ type: "string", readonly, value });
  const members = (value: string, values: readonly string[]): VarDef => ({ type: "MemberList", readonly: false, value, values });
  const txPoints = ["ParkingBayOccupancy", "EVConnected", "Authorized", "DataSigned", "PowerPathClosed", "EnergyTransfer"];
  const vars: DeviceVar[] = [
    v("ChargingStation", "Model", str(ctx.model)),
    v("ChargingStation", "VendorName", str(ctx.vendor)),
    v("ChargingStation", "SupplyPhases", int(ctx.phases, true)),
    v("ChargingStation", "AvailabilityState", { ...str(""), type: "OptionList", get: () => ctx.availability() }),
    v("SecurityCtrlr", "Identity", str(ctx.id)),
    v("SecurityCtrlr", "SecurityProfile", int(1, true)),
    v("OCPPCommCtrlr", "HeartbeatInterval", int(ctx.heartbeatIntervalS, false, "s", 1)),
    v("OCPPCommCtrlr", "WebSocketPingInterval", int(30, false, "s")),
    v("OCPPCommCtrlr", "MessageTimeout", int(30, true, "s")),
    v("SampledDataCtrlr", "Enabled", bool(true)),
    v("SampledDataCtrlr", "TxUpdatedInterval", int(ctx.meterIntervalS, false, "s", 1)),
    v("SampledDataCtrlr", "TxUpdatedMeasurands", members(DEFAULT_SAMPLED, MEASURANDS)),
    v("SampledDataCtrlr", "TxStartedMeasurands", members("Energy.Active.Import.Register", MEASURANDS)),
    v("SampledDataCtrlr", "TxEndedMeasurands", members("Energy.Active.Import.Register", MEASURANDS)),
    v("SampledDataCtrlr", "TxEndedInterval", int(0, false, "s")),
    v("AlignedDataCtrlr", "Interval", int(0, false, "s")),
    v("AlignedDataCtrlr", "Measurands", members("Energy.Active.Import.Register", MEASURANDS)),
    v("AuthCtrlr", "Enabled", bool(true)),
    v("AuthCtrlr", "AuthorizeRemoteStart", bool(false)),
    v("AuthCtrlr", "LocalAuthorizeOffline", bool(true)),
    v("AuthCtrlr", "LocalPreAuthorize", bool(false)),
    v("AuthCacheCtrlr", "Enabled", bool(true)),
    v("TxCtrlr", "EVConnectionTimeOut", int(60, false, "s")),
    v("TxCtrlr", "StopTxOnEVSideDisconnect", bool(true)),
    v("TxCtrlr", "StopTxOnInvalidId", bool(true)),
    v("TxCtrlr", "TxStartPoint", members("Authorized", txPoints)),
    v("TxCtrlr", "TxStopPoint", members("EVConnected,Authorized", txPoints)),
    v("DeviceDataCtrlr", "ItemsPerMessage", int(50, true)),
    v("DeviceDataCtrlr", "BytesPerMessage", int(65_536, true)),
    v("SmartChargingCtrlr", "Enabled", bool(true)),
    v("SmartChargingCtrlr", "RateUnit", { type: "MemberList", readonly: true, value: "A,W", values: ["A", "W"] }),
    v("SmartChargingCtrlr", "PeriodsPerSchedule", int(24, true)),
    v("SmartChargingCtrlr", "ProfileStackLevel", int(10, true)),
    v("ClockCtrlr", "DateTime", { ...str(""), get: () => new Date().toISOString() }),
    v("ClockCtrlr", "TimeSource", { type: "SequenceList", readonly: false, value: "Heartbeat", values: ["Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork", "RadioTimeTransmitter"] }),
  ];
  for (let evse = 1; evse <= ctx.connectors; evse++) {
    vars.push(
      v({ name: "EVSE", evse: { id: evse } }, "AvailabilityState", { ...str(""), type: "OptionList", get: () => ctx.availability(evse) }),
      v({ name: "EVSE", evse: { id: evse } }, "Power", { ...int(0, true, "W"), get: () => String(Math.round(ctx.powerW(evse))) }),
      v({ name: "EVSE", evse: { id: evse } }, "SupplyPhases", int(ctx.phases, true)),
      v({ name: "Connector", evse: { id: evse, connectorId: 1 } }, "ConnectorType", str(ctx.connectorType)),
      v({ name: "Connector", evse: { id: evse, connectorId: 1 } }, "AvailabilityState", { ...str(""), type: "OptionList", get: () => ctx.availability(evse) }),
    );
  }
  return vars;
};

/** The OCPP 2.0.1 DataEnumType for a variable. */
export const dataType201 = (def: VarDef) => {
  switch (def.type) {
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    case "MemberList":
      return "MemberList";
    case "OptionList":
      return "OptionList";
    case "SequenceList":
      return "SequenceList";
    default:
      return "string";
  }
};
