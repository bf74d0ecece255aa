import { randomInt } from "node:crypto";
import {
  COMMAND_PARAMS as commandParamSchemas,
  parseComponent,
  parseVariable,
  TRIGGER_MESSAGES_BY_VERSION,
  type CommandAction,
  type Component201,
  type Variable201,
} from "../../../contracts/csms/commands";
import type { OcppVersion } from "../../../contracts/csms/mqtt";

/**
 * The version-neutral command catalogue (contracts/csms/commands.ts) mapped to each OCPP
 * version's CALL. Pure: params are validated and turned into `{ action, request }`; nothing is sent.
 */

/** `Component.Variable` (the component part may itself carry `@evse`). */
const splitKey = (key: string) => {
  const dot = key.lastIndexOf(".");
  // "EVSE@1.2" has a dot inside the evse part; the variable is after the last dot only if it is a name.
  if (dot <= 0) return undefined;
  const component = parseComponent(key.slice(0, dot));
  const variable = parseVariable(key.slice(dot + 1));
  return component && variable ? { component, variable } : undefined;
};

export class CommandInputError extends Error {
  constructor(
    message: string,
    readonly fields: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export type MappedCommand = { action: string; request: Record<string, unknown> };

const fail = (path: string, message: string): never => {
  throw new CommandInputError(message, [{ path, message }]);
};

/**
 * Validates `params` for `action` and maps them to the station's OCPP version.
 * `resolveTransaction` turns an API transaction id into the id on the wire (for remoteStop).
 */
export const mapCommand = (
  version: OcppVersion,
  action: CommandAction,
  rawParams: unknown,
  resolveTransaction: (apiId: string) => string = (id) => id,
): MappedCommand => {
  const parsed = commandParamSchemas[action].safeParse(rawParams ?? {});
  if (!parsed.success) {
    throw new CommandInputError(
      `invalid params for ${action}`,
      parsed.error.issues.map((i) => ({ path: ["params", ...i.path].join("."), message: i.message })),
    );
  }
  const v16 = version === "ocpp1.6";
  switch (action) {
    case "remoteStart": {
      const p = commandParamSchemas.remoteStart.parse(rawParams);
      if (v16) {
        if (p.idTag.length > 20) fail("params.idTag", "OCPP 1.6 idTags are at most 20 characters");
        const connector = p.connectorId ?? p.evseId;
        return { action: "RemoteStartTransaction", request: { idTag: p.idTag, ...(connector !== undefined ? { connectorId: connector } : {}) } };
      }
      const evse = p.evseId ?? p.connectorId;
      return {
        action: "RequestStartTransaction",
        request: { idToken: { idToken: p.idTag, type: "Central" }, remoteStartId: randomInt(1, 2 ** 31 - 1), ...(evse !== undefined ? { evseId: evse } : {}) },
      };
    }
    case "remoteStop": {
      const p = commandParamSchemas.remoteStop.parse(rawParams);
      const wire = resolveTransaction(p.transactionId);
      if (v16) {
        if (!/^\d{1,10}$/.test(wire) || Number(wire) > 2 ** 31 - 1) fail("params.transactionId", "OCPP 1.6 transaction ids are integers");
        return { action: "RemoteStopTransaction", request: { transactionId: Number(wire) } };
      }
      return { action: "RequestStopTransaction", request: { transactionId: wire } };
    }
    case "reset": {
      const p = commandParamSchemas.reset.parse(rawParams);
      return { action: "Reset", request: { type: v16 ? (p.type === "hard" ? "Hard" : "Soft") : p.type === "hard" ? "Immediate" : "OnIdle" } };
    }
    case "unlockConnector": {
      const p = commandParamSchemas.unlockConnector.parse(rawParams);
      if (v16) return { action: "UnlockConnector", request: { connectorId: p.connectorId } };
      return { action: "UnlockConnector", request: p.evseId !== undefined ? { evseId: p.evseId, connectorId: p.connectorId } : { evseId: p.connectorId, connectorId: 1 } };
    }
    case "changeAvailability": {
      const p = commandParamSchemas.changeAvailability.parse(rawParams);
      if (v16) return { action: "ChangeAvailability", request: { connectorId: p.connectorId ?? p.evseId ?? 0, type: p.available ? "Operative" : "Inoperative" } };
      const evse =
        p.evseId !== undefined
          ? p.evseId === 0
            ? undefined
            : { id: p.evseId, ...(p.connectorId !== undefined ? { connectorId: p.connectorId } : {}) }
          : p.connectorId
            ? { id: p.connectorId }
            : undefined;
      return { action: "ChangeAvailability", request: { operationalStatus: p.available ? "Operative" : "Inoperative", ...(evse ? { evse } : {}) } };
    }
    case "triggerMessage": {
      const p = commandParamSchemas.triggerMessage.parse(rawParams);
      const allowed: readonly string[] = TRIGGER_MESSAGES_BY_VERSION[version];
      if (!allowed.includes(p.message)) fail("params.message", `must be one of ${allowed.join(", ")} for ${version}`);
      if (v16) {
        const connector = p.connectorId ?? p.evseId;
        return { action: "TriggerMessage", request: { requestedMessage: p.message, ...(connector !== undefined ? { connectorId: connector } : {}) } };
      }
      const evse = p.evseId ?? p.connectorId;
      return { action: "TriggerMessage", request: { requestedMessage: p.message, ...(evse !== undefined ? { evse: { id: evse } } : {}) } };
    }
    case "getConfiguration": {
      const p = commandParamSchemas.getConfiguration.parse(rawParams);
      if (v16) return { action: "GetConfiguration", request: p.keys?.length ? { key: p.keys } : {} };
      if (!p.keys?.length) return { action: "GetBaseReport", request: { requestId: randomInt(1, 2 ** 31 - 1), reportBase: "FullInventory" } };
      const getVariableData = p.keys.map((key, i) => {
        const parts = splitKey(key);
        if (!parts) return fail(`params.keys.${i}`, "2.0.1 keys are Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval or EVSE@1.AvailabilityState");
        return parts;
      });
      return { action: "GetVariables", request: { getVariableData } };
    }
    case "changeConfiguration": {
      const p = commandParamSchemas.changeConfiguration.parse(rawParams);
      if (v16) {
        if (!("key" in p)) return fail("params.key", "OCPP 1.6 stations take { key, value }");
        if (p.value.length > 500) fail("params.value", "OCPP 1.6 values are at most 500 characters");
        return { action: "ChangeConfiguration", request: { key: p.key, value: p.value } };
      }
      let target: { component: Component201; variable: Variable201 } | undefined;
      if ("key" in p) target = splitKey(p.key);
      else {
        const component = parseComponent(p.component);
        const variable = parseVariable(p.variable);
        target = component && variable ? { component, variable } : undefined;
      }
      if (!target) return fail("params", "2.0.1 stations take { component, variable, value } (component like EVSE@1 or OCPPCommCtrlr)");
      return { action: "SetVariables", request: { setVariableData: [{ ...target, attributeValue: p.value }] } };
    }
    case "clearCache":
      return { action: "ClearCache", request: {} };
    case "setChargingProfile": {
      const p = commandParamSchemas.setChargingProfile.parse(rawParams);
      const limit = Math.round(p.limitW * 10) / 10;
      if (v16) {
        return {
          action: "SetChargingProfile",
          request: {
            connectorId: p.connectorId ?? p.evseId ?? 0,
            csChargingProfiles: {
              chargingProfileId: randomInt(1, 2 ** 31 - 1),
              stackLevel: 0,
              chargingProfilePurpose: "TxDefaultProfile",
              chargingProfileKind: "Relative",
              chargingSchedule: { chargingRateUnit: "W", chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
            },
          },
        };
      }
      return {
        action: "SetChargingProfile",
        request: {
          evseId: p.evseId ?? p.connectorId ?? 0,
          chargingProfile: {
            id: randomInt(1, 2 ** 31 - 1),
            stackLevel: 0,
            chargingProfilePurpose: "TxDefaultProfile",
            chargingProfileKind: "Relative",
            chargingSchedule: [{ id: 1, chargingRateUnit: "W", chargingSchedulePeriod: [{ startPeriod: 0, limit }] }],
          },
        },
      };
    }
    case "getTransactionStatus": {
      const p = commandParamSchemas.getTransactionStatus.parse(rawParams);
      if (v16) return fail("action", "getTransactionStatus exists only in OCPP 2.0.1");
      return { action: "GetTransactionStatus", request: p.transactionId ? { transactionId: resolveTransaction(p.transactionId) } : {} };
    }
  }
};

const ACCEPTED = new Set(["Accepted", "Unlocked", "Scheduled", "RebootRequired"]);

/** accepted / rejected from a station's answer (API.md: calls without a status are accepted). */
export const outcomeOf = (action: string, response: Record<string, unknown>): "accepted" | "rejected" => {
  if (action === "SetVariables" && Array.isArray(response.setVariableResult)) {
    return (response.setVariableResult as { attributeStatus?: string }[]).every((r) => ACCEPTED.has(String(r.attributeStatus))) ? "accepted" : "rejected";
  }
  if (typeof response.status === "string") return ACCEPTED.has(response.status) ? "accepted" : "rejected";
  return "accepted";
};

type StatusInfo = { reasonCode?: unknown; additionalInfo?: unknown };
const text = (v: unknown, max: number) => (typeof v === "string" && v ? v.slice(0, max) : undefined);

/**
 * The station's reason for saying no, in its own words: 2.0.1 `statusInfo.reasonCode`
 * (+ `additionalInfo`), per-variable `attributeStatusInfo` for SetVariables, otherwise the
 * status it answered (1.6 has no reason field: "Rejected", "NotSupported", "Occupied"…).
 * Empty for an accepted answer.
 */
export const rejectionReason = (action: string, response: Record<string, unknown> | undefined): { reason?: string; reasonDetail?: string } => {
  if (!response || outcomeOf(action, response) === "accepted") return {};
  const fromInfo = (info: unknown, fallback: unknown) => {
    const i = (info && typeof info === "object" ? info : {}) as StatusInfo;
    const reason = text(i.reasonCode, 128) ?? text(fallback, 128);
    const reasonDetail = text(i.additionalInfo, 1024);
    return { ...(reason ? { reason } : {}), ...(reasonDetail ? { reasonDetail } : {}) };
  };
  if (action === "SetVariables" && Array.isArray(response.setVariableResult)) {
    const bad = (response.setVariableResult as { attributeStatus?: string; attributeStatusInfo?: unknown }[]).find((r) => !ACCEPTED.has(String(r.attributeStatus)));
    if (bad) return fromInfo(bad.attributeStatusInfo, bad.attributeStatus);
  }
  return fromInfo(response.statusInfo, response.status);
};
