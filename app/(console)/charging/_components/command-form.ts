import type { CommandAction, ProtocolVersion } from "@/contracts/csms";
import { parseComponent, parseVariable, TRIGGER_MESSAGES, TRIGGER_MESSAGES_BY_VERSION, ZCommandSpec, type CommandSpec } from "@/contracts/csms/commands";
import { humanizeMessage } from "../../_components/ui/messages";

/**
 * The command forms, built from the command catalogue (contracts/csms/commands.ts): which
 * fields an action takes on a station of a given OCPP version, and the form's text turned
 * into `{ action, params }` checked with the catalogue's own schema, errors in words.
 */
export type FieldKind = "int" | "number" | "text" | "keys" | "select" | "bool";
export type Suggest = "configKey" | "component" | "variable";
export type FieldDef = {
  name: string;
  label: string;
  kind: FieldKind;
  optional?: boolean;
  options?: readonly string[];
  hint?: string;
  /** Only for stations of these versions (all when unset or when the version is unknown). */
  only?: ProtocolVersion;
  /** Offer what the station reported (its configuration keys, components, variables). */
  suggest?: Suggest;
};

/** What the station reported, for suggestions: 1.6 keys, or 2.0.1 `Component.Variable` keys. */
export type StationCatalogue = { protocol?: ProtocolVersion | null; keys?: readonly string[] };

const connector: FieldDef = { name: "connectorId", label: "Connector id", kind: "int", optional: true };
const evse: FieldDef = { name: "evseId", label: "EVSE id", kind: "int", optional: true, only: "ocpp2.0.1" };

const FIELDS: Record<CommandAction, FieldDef[]> = {
  remoteStart: [connector, evse, { name: "idTag", label: "Id tag", kind: "text" }],
  remoteStop: [{ name: "transactionId", label: "Transaction id", kind: "text" }],
  reset: [{ name: "type", label: "Type", kind: "select", options: ["soft", "hard"] }],
  unlockConnector: [{ ...connector, optional: false }, evse],
  changeAvailability: [connector, evse, { name: "available", label: "Available", kind: "bool" }],
  triggerMessage: [{ name: "message", label: "Message", kind: "select", options: TRIGGER_MESSAGES }, connector, evse],
  getConfiguration: [{ name: "keys", label: "Keys", kind: "keys", optional: true, suggest: "configKey", hint: "Leave empty for every key." }],
  changeConfiguration: [
    { name: "key", label: "Key", kind: "text", only: "ocpp1.6", suggest: "configKey" },
    { name: "component", label: "Component", kind: "text", only: "ocpp2.0.1", suggest: "component", hint: "Name[:instance][@evse[.connector]], e.g. OCPPCommCtrlr or EVSE@1" },
    { name: "variable", label: "Variable", kind: "text", only: "ocpp2.0.1", suggest: "variable", hint: "e.g. HeartbeatInterval" },
    { name: "value", label: "Value", kind: "text" },
  ],
  clearCache: [],
  setChargingProfile: [connector, evse, { name: "limitW", label: "Limit (W)", kind: "number", hint: "The most the station may draw, in watts." }],
  getTransactionStatus: [{ name: "transactionId", label: "Transaction id", kind: "text", optional: true }],
};

/** The fields of an action on a station of `protocol` (every field when it is unknown, as in a bulk command). */
export const paramFields = (action: CommandAction, protocol?: ProtocolVersion | null): FieldDef[] =>
  FIELDS[action]
    .filter((f) => !protocol || !f.only || f.only === protocol)
    .map((f) => {
      if (f.name === "message" && protocol) return { ...f, options: TRIGGER_MESSAGES_BY_VERSION[protocol] };
      // Mixed versions: say which version a field is for.
      if (!protocol && f.only) return { ...f, optional: true, hint: [f.only === "ocpp1.6" ? "OCPP 1.6" : "OCPP 2.0.1", f.hint].filter(Boolean).join(" — ") };
      return f;
    });

/** What a command is called on a station of `protocol`: changeConfiguration is "Set variables" in 2.0.1. */
export const actionLabel = (action: CommandAction, protocol?: ProtocolVersion | null, fallback?: string) => {
  if (action === "changeConfiguration") return protocol === "ocpp2.0.1" ? "Set variables" : protocol === "ocpp1.6" ? "Change configuration" : "Change configuration / Set variables";
  if (action === "getConfiguration" && protocol === "ocpp2.0.1") return "Get variables";
  return fallback ?? action;
};

export type ParamState = Record<string, string>;

export const initialParams = (action: CommandAction, protocol?: ProtocolVersion | null): ParamState =>
  Object.fromEntries(paramFields(action, protocol).map((f) => [f.name, f.kind === "select" ? f.options![0]! : f.kind === "bool" ? "true" : ""]));

/**
 * The specification's own keys, offered until the station has reported its configuration:
 * OCPP 1.6 Core profile keys, and 2.0.1 variables of the controllers every station has.
 */
export const STANDARD_KEYS: Record<ProtocolVersion, readonly string[]> = {
  "ocpp1.6": [
    "AllowOfflineTxForUnknownId",
    "AuthorizationCacheEnabled",
    "AuthorizeRemoteTxRequests",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "HeartbeatInterval",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "MeterValueSampleInterval",
    "MeterValuesSampledData",
    "NumberOfConnectors",
    "ResetRetries",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "WebSocketPingInterval",
  ],
  "ocpp2.0.1": [
    "AuthCtrlr.AuthorizeRemoteStart",
    "AuthCtrlr.Enabled",
    "ClockCtrlr.DateTime",
    "OCPPCommCtrlr.HeartbeatInterval",
    "OCPPCommCtrlr.MessageTimeout",
    "OCPPCommCtrlr.WebSocketPingInterval",
    "SampledDataCtrlr.TxUpdatedInterval",
    "SampledDataCtrlr.TxUpdatedMeasurands",
    "TxCtrlr.EVConnectionTimeOut",
    "TxCtrlr.TxStartPoint",
    "TxCtrlr.TxStopPoint",
  ],
};

/** Suggestions for a field: what the station reported, else the specification's standard keys. */
export const suggestionsFor = (f: FieldDef, { keys: reported = [], protocol }: StationCatalogue): string[] => {
  if (!f.suggest) return [];
  const keys = reported.length ? reported : protocol ? STANDARD_KEYS[protocol] : [];
  if (f.suggest === "configKey") return [...keys];
  const split = keys.map((k) => {
    const dot = k.lastIndexOf(".");
    return dot > 0 ? { component: k.slice(0, dot), variable: k.slice(dot + 1) } : { component: k, variable: "" };
  });
  return [...new Set(split.map((s) => s[f.suggest as "component" | "variable"]).filter(Boolean))].sort();
};

const listOf = (raw: string) =>
  raw
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Form text → the action's params, checked with the server's own schema; messages are sentences. */
export const buildSpec = (action: CommandAction, state: ParamState, protocol?: ProtocolVersion | null): { spec?: CommandSpec; errors: Record<string, string> } => {
  const fields = paramFields(action, protocol);
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = (state[f.name] ?? "").trim();
    if (raw === "" && f.kind !== "bool") {
      // The catalogue's union cannot say which half is missing; the form can.
      if (!f.optional && f.only) errors[f.name] = `${f.label} is required.`;
      continue;
    }
    if (f.kind === "int" || f.kind === "number") params[f.name] = Number(raw);
    else if (f.kind === "bool") params[f.name] = raw === "true";
    else if (f.kind === "keys") params[f.name] = listOf(raw);
    else params[f.name] = raw;
  }
  if (action === "changeConfiguration") {
    if (typeof params.component === "string" && !parseComponent(params.component)) errors.component = "Write the component as Name[:instance][@evse[.connector]], e.g. EVSE@1.";
    if (typeof params.variable === "string" && !parseVariable(params.variable)) errors.variable = "Write the variable as Name[:instance], e.g. HeartbeatInterval.";
    if (!protocol && params.key !== undefined && (params.component !== undefined || params.variable !== undefined)) errors.key = "Give a key (1.6) or a component and variable (2.0.1), not both.";
    if (!protocol && params.key === undefined && params.component === undefined && params.variable === undefined) errors.key = "Give a key (1.6) or a component and variable (2.0.1).";
    if (params.value === undefined) params.value = "";
  }
  if (action === "getConfiguration" && protocol === "ocpp2.0.1") {
    const bad = ((params.keys as string[] | undefined) ?? []).find((k) => !/^[^.]+\.[^.]+/.test(k));
    if (bad) errors.keys = `“${bad}” is not Component.Variable (e.g. OCPPCommCtrlr.HeartbeatInterval).`;
  }
  if (Object.keys(errors).length) return { errors };
  const parsed = ZCommandSpec.safeParse({ action, params });
  if (parsed.success) return { spec: parsed.data, errors: {} };
  for (const issue of parsed.error.issues) {
    const key = issue.path[0] === "params" && issue.path.length > 1 ? String(issue.path[1]) : "_";
    errors[key] ??= humanizeMessage(issue.message, fields.find((f) => f.name === key)?.label);
  }
  return { errors };
};
