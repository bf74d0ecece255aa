import { z } from "zod";

/**
 * The CSMS's MQTT contract between gateway(s) and manager(s), MaEVe-compatible
 * (see ../shared/reference/csms.md and services/csms/README.md). Shared by the gateway,
 * the manager, the simulators' tests and the console's observer, so the wire format is
 * defined exactly once.
 */

export const OCPP_VERSIONS = ["ocpp1.6", "ocpp2.0.1"] as const;
export type OcppVersion = (typeof OCPP_VERSIONS)[number];
export const isOcppVersion = (v: string): v is OcppVersion => (OCPP_VERSIONS as readonly string[]).includes(v);

/**
 * A station id becomes an MQTT topic level and a URL path segment. MQTT forbids `/`, `+`
 * and `#` there and OCPP caps identities at 48 characters, so only a conservative set is
 * accepted; anything else is refused at the websocket upgrade.
 */
export const stationIdPattern = /^[A-Za-z0-9._:@-]{1,48}$/;
export const isValidStationId = (id: string) => stationIdPattern.test(id);

export const DEFAULT_TOPIC_PREFIX = "cs";

export const csmsTopics = (prefix = DEFAULT_TOPIC_PREFIX) => ({
  /** Station → manager: station CALLs, and the merged answers to manager CALLs. */
  in: (version: OcppVersion, stationId: string) => `${prefix}/in/${version}/${stationId}`,
  /** Manager → station: answers to station CALLs, and manager CALLs. */
  out: (version: OcppVersion, stationId: string) => `${prefix}/out/${version}/${stationId}`,
  /** What a manager subscribes to (as `$share/<group>/…` on MQTT 5 brokers). */
  inWildcard: `${prefix}/in/+/+`,
  outWildcard: `${prefix}/out/+/+`,
  /** Retained per-station presence (a Switchyard addition; MaEVe has none). */
  presence: (stationId: string) => `${prefix}/presence/${stationId}`,
  presenceWildcard: `${prefix}/presence/+`,
  /** Retained gateway liveness; the broker publishes the offline will if a gateway dies. */
  gateway: (gatewayId: string) => `${prefix}/gateway/${gatewayId}`,
  gatewayWildcard: `${prefix}/gateway/+`,
  /** A manager's live changes for the other managers (`ZManagerFeedMessage`) and its membership (`ZMemberMessage`, services/csms/manager/ownership.ts), keyed by its id. */
  feed: (managerId: string) => `${prefix}/feed/${managerId}`,
  feedWildcard: `${prefix}/feed/+`,
  /** Results of a manager's CALLs that another manager received, forwarded to it. */
  reply: (managerId: string) => `${prefix}/reply/${managerId}`,
  replyWildcard: `${prefix}/reply/+`,
  /** A manager's self-test of shared subscriptions at start. */
  probe: (managerId: string) => `${prefix}/probe/${managerId}`,
  /** Everything of the charging domain on the broker. */
  all: `${prefix}/#`,
});
export type CsmsTopics = ReturnType<typeof csmsTopics>;

/** Splits `<prefix>/<in|out>/<version>/<stationId>`; undefined for anything else. */
export const parseStationTopic = (prefix: string, topic: string) => {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const parts = topic.slice(prefix.length + 1).split("/");
  if (parts.length !== 3) return undefined;
  const [direction, version, stationId] = parts;
  if ((direction !== "in" && direction !== "out") || !isOcppVersion(version) || !isValidStationId(stationId)) return undefined;
  return { direction, version, stationId } as { direction: "in" | "out"; version: OcppVersion; stationId: string };
};

// ---------- envelope ----------

export const MESSAGE_TYPE = { call: 2, result: 3, error: 4 } as const;

/** OCPP-J message ids are at most 36 characters. */
const messageId = z.string().min(1).max(36);
/** OCPP action names are PascalCase words; the length cap keeps metrics labels and logs sane. */
const action = z.string().regex(/^[A-Za-z0-9]{1,64}$/, "action must be 1–64 letters or digits");
const payload = z.record(z.string(), z.unknown());

/** A CALL in either direction. */
export const callEnvelopeSchema = z.looseObject({ type: z.literal(2), action, id: messageId, request: payload });
/** A CALLRESULT; `action`/`request` are present when it answers a manager call (published on `in`). */
export const resultEnvelopeSchema = z.looseObject({
  type: z.literal(3),
  id: messageId,
  response: payload,
  action: action.optional(),
  request: payload.optional(),
});
/** A CALLERROR; `action`/`request` are present when it answers a manager call (published on `in`). */
export const errorEnvelopeSchema = z.looseObject({
  type: z.literal(4),
  id: messageId,
  error_code: z.string().min(1).max(128),
  error_description: z.string().max(1024).optional().default(""),
  action: action.optional(),
  request: payload.optional(),
});
export const envelopeSchema = z.discriminatedUnion("type", [callEnvelopeSchema, resultEnvelopeSchema, errorEnvelopeSchema]);

export type CallEnvelope = { type: 2; action: string; id: string; request: Record<string, unknown> };
export type ResultEnvelope = { type: 3; id: string; response: Record<string, unknown>; action?: string; request?: Record<string, unknown> };
export type ErrorEnvelope = {
  type: 4;
  id: string;
  error_code: string;
  error_description: string;
  action?: string;
  request?: Record<string, unknown>;
};
export type Envelope = CallEnvelope | ResultEnvelope | ErrorEnvelope;

/**
 * Error codes the gateway itself puts on `in` when a manager call cannot be delivered.
 * Anything else in `error_code` is the station's own CALLERROR code (or a strict-mode
 * validation code when the manager's request or the station's answer broke the schema).
 */
export const GATEWAY_ERROR = {
  /** The station has no open socket on the gateway that received the call. */
  stationOffline: "StationOffline",
  /** One call in flight plus `maxQueuedCalls` queued; this one was refused. */
  queueFull: "GatewayQueueFull",
  /** The station did not answer within the gateway's call timeout. */
  timeout: "GatewayTimeout",
  /** The socket closed while the call was queued or in flight. */
  disconnected: "StationDisconnected",
  /** The topic's OCPP version is not the one the station is connected with. */
  protocolMismatch: "ProtocolMismatch",
} as const;

// ---------- presence ----------

export type StationPresence = {
  online: boolean;
  /** The gateway that owns (or last owned) the socket. */
  gateway: string;
  protocol: OcppVersion;
  /** Epoch ms of this change. */
  at: number;
  /** Unique per websocket connection; lets gateways detect a station moving between them. */
  session: string;
  /** Why the station went offline (`closed`, `replaced`, `gateway shutdown`, …). */
  reason?: string;
};

export const stationPresenceSchema = z.looseObject({
  online: z.boolean(),
  gateway: z.string(),
  protocol: z.enum(OCPP_VERSIONS),
  at: z.number(),
  session: z.string(),
  reason: z.string().optional(),
});

export type GatewayStatus = { online: boolean; gateway: string; at: number; url?: string; reason?: string };

export const gatewayStatusSchema = z.looseObject({
  online: z.boolean(),
  gateway: z.string().min(1).max(128),
  at: z.number(),
  url: z.string().max(500).optional(),
  reason: z.string().max(200).optional(),
});

// ---------- actions ----------

/** CALLs a station may send, per version. Anything else is answered NotImplemented by the gateway. */
export const STATION_ACTIONS: Record<OcppVersion, readonly string[]> = {
  "ocpp1.6": [
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    // Security whitepaper extensions for 1.6.
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
  ],
  "ocpp2.0.1": [
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "DataTransfer",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
  ],
};

/** CALLs a CSMS may send, per version (used to bound metric labels). */
export const CSMS_ACTIONS: Record<OcppVersion, readonly string[]> = {
  "ocpp1.6": [
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "InstallCertificate",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SignedUpdateFirmware",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
  ],
  "ocpp2.0.1": [
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "CostUpdated",
    "CustomerInformation",
    "DataTransfer",
    "DeleteCertificate",
    "GetBaseReport",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "InstallCertificate",
    "PublishFirmware",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
  ],
};

/** The registration body of MaEVe's `POST /api/v0/cs/{id}` (and the answer of `GET …/auth`). */
export type ChargeStationAuth = {
  /** MaEVe numbering: 0 = basic auth over ws, 1 = basic auth over TLS, 2 = TLS client certificates. */
  securityProfile: number;
  base64SHA256Password?: string;
  invalidUsernameAllowed?: boolean;
};

export const chargeStationAuthSchema = z.looseObject({
  securityProfile: z.number().int().min(0).max(2),
  base64SHA256Password: z.string().optional(),
  invalidUsernameAllowed: z.boolean().optional(),
});
