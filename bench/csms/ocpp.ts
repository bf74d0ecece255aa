import type { OcppVersion } from "../../contracts/csms/mqtt";

/**
 * Hand-built OCPP-J payloads for the load generator. The gateway runs ocpp-rpc in strict
 * mode, so every payload here must satisfy the OCPP 1.6 / 2.0.1 JSON schemas (a schema
 * error would show up as a CALLERROR in the benchmark's error count).
 */

export type Call = { action: string; payload: Record<string, unknown> };

const iso = (ms = Date.now()) => new Date(ms).toISOString();

/** The connectors a station reports in its status storm: [evseId, connectorId] (1.6: evse = connector). */
export const connectorsOf = (version: OcppVersion): [number, number][] =>
  version === "ocpp1.6"
    ? [
        [0, 0],
        [1, 1],
        [2, 2],
      ]
    : [
        [1, 1],
        [2, 1],
      ];

export const boot = (version: OcppVersion, id: string): Call =>
  version === "ocpp1.6"
    ? { action: "BootNotification", payload: { chargePointVendor: "SwitchyardBench", chargePointModel: "LoadGen-16", chargePointSerialNumber: id.slice(-25), firmwareVersion: "1.0.0" } }
    : { action: "BootNotification", payload: { reason: "PowerUp", chargingStation: { vendorName: "SwitchyardBench", model: "LoadGen-201", serialNumber: id.slice(-25), firmwareVersion: "1.0.0" } } };

export const heartbeat = (): Call => ({ action: "Heartbeat", payload: {} });

/** `status` uses the names valid in both versions for the statuses we send (Available, Unavailable, Occupied/Preparing, Charging…). */
export const statusNotification = (version: OcppVersion, evseId: number, connectorId: number, status: string, at: number): Call =>
  version === "ocpp1.6"
    ? { action: "StatusNotification", payload: { connectorId, errorCode: "NoError", status, timestamp: iso(at) } }
    : { action: "StatusNotification", payload: { timestamp: iso(at), connectorStatus: status, evseId, connectorId } };

/** 1.6 connector statuses used during a transaction, and their 2.0.1 counterparts. */
export const txStatus = (version: OcppVersion, phase: "plugged" | "charging" | "finishing" | "free") => {
  if (version === "ocpp1.6") return { plugged: "Preparing", charging: "Charging", finishing: "Finishing", free: "Available" }[phase];
  return { plugged: "Occupied", charging: "Occupied", finishing: "Occupied", free: "Available" }[phase];
};

const energySample16 = (wh: number, w: number, at: number) => ({
  timestamp: iso(at),
  sampledValue: [
    { value: String(Math.round(wh)), context: "Sample.Periodic", measurand: "Energy.Active.Import.Register", unit: "Wh" },
    { value: String(Math.round(w)), context: "Sample.Periodic", measurand: "Power.Active.Import", unit: "W" },
  ],
});

const energySample201 = (wh: number, w: number, at: number) => ({
  timestamp: iso(at),
  sampledValue: [
    { value: Math.round(wh), context: "Sample.Periodic", measurand: "Energy.Active.Import.Register", unitOfMeasure: { unit: "Wh" } },
    { value: Math.round(w), context: "Sample.Periodic", measurand: "Power.Active.Import", unitOfMeasure: { unit: "W" } },
  ],
});

export const startTransaction16 = (connectorId: number, idTag: string, meterStart: number, at: number): Call => ({
  action: "StartTransaction",
  payload: { connectorId, idTag, meterStart: Math.round(meterStart), timestamp: iso(at) },
});

export const meterValues16 = (connectorId: number, transactionId: number, wh: number, w: number, at: number): Call => ({
  action: "MeterValues",
  payload: { connectorId, transactionId, meterValue: [energySample16(wh, w, at)] },
});

export const stopTransaction16 = (transactionId: number, idTag: string, meterStop: number, at: number): Call => ({
  action: "StopTransaction",
  payload: { transactionId, idTag, meterStop: Math.round(meterStop), timestamp: iso(at), reason: "Local" },
});

export const transactionEvent201 = (
  eventType: "Started" | "Updated" | "Ended",
  txId: string,
  seqNo: number,
  evseId: number,
  idTag: string,
  wh: number,
  w: number,
  at: number,
): Call => ({
  action: "TransactionEvent",
  payload: {
    eventType,
    timestamp: iso(at),
    triggerReason: eventType === "Started" ? "Authorized" : eventType === "Updated" ? "MeterValuePeriodic" : "StopAuthorized",
    seqNo,
    transactionInfo: {
      transactionId: txId,
      ...(eventType === "Ended" ? { stoppedReason: "Local", chargingState: "Idle" } : { chargingState: "Charging" }),
    },
    ...(eventType !== "Updated" ? { idToken: { idToken: idTag, type: "ISO14443" } } : {}),
    ...(eventType === "Started" ? { evse: { id: evseId, connectorId: 1 } } : {}),
    meterValue: [energySample201(wh, w, at)],
  },
});
