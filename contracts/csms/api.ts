import { z } from "zod";
import { OCPP_VERSIONS } from "./mqtt";

/**
 * The CSMS manager's HTTP API and live feed (services/csms/manager/API.md) as zod schemas:
 * the manager builds these shapes, the console's connector validates every response and
 * feed event against them, and the browser reads the inferred types. Times are ISO-8601
 * strings on the wire.
 */

export type ProtocolVersion = (typeof OCPP_VERSIONS)[number];

export const CONNECTOR_STATUSES = [
  "Available",
  "Preparing",
  "Charging",
  "SuspendedEV",
  "SuspendedEVSE",
  "Finishing",
  "Reserved",
  "Unavailable",
  "Faulted",
  "Occupied",
] as const;
export type ConnectorStatus = (typeof CONNECTOR_STATUSES)[number];

const isoTime = z.string().min(1).max(40);
const count = z.number().int().min(0);
const watts = z.number().finite();

export const ZConnectorView = z.object({
  evseId: count,
  connectorId: count,
  /** The OCPP status string (CONNECTOR_STATUSES, or whatever a station reported). */
  status: z.string().max(40),
  errorCode: z.string().max(100).nullable(),
  updatedAt: isoTime.nullable(),
  /** The open transaction on this connector (API id), when there is one. */
  transactionId: z.string().max(100).nullable().optional(),
  /** Latest power reading on this connector (W), null when it reported none. */
  powerW: watts.nullable().optional(),
  /** Energy of the open session on this connector so far: register − start (Wh). */
  sessionEnergyWh: z.number().finite().nullable().optional(),
});
export type ConnectorView = z.infer<typeof ZConnectorView>;

export const ZStationView = z.object({
  id: z.string().min(1).max(48),
  protocol: z.enum(OCPP_VERSIONS).nullable(),
  online: z.boolean(),
  lastSeenAt: isoTime.nullable(),
  bootedAt: isoTime.nullable(),
  heartbeatIntervalSec: z.number().int().positive(),
  vendor: z.string().max(100).nullable(),
  model: z.string().max(100).nullable(),
  firmwareVersion: z.string().max(100).nullable(),
  serialNumber: z.string().max(100).nullable(),
  gateway: z.string().max(100).nullable(),
  connectors: z.array(ZConnectorView).max(1000),
  activeTransactionIds: z.array(z.string().max(100)).max(1000),
  powerW: watts.nullable(),
  energyTodayWh: z.number().finite().min(0),
});
export type StationView = z.infer<typeof ZStationView>;

export const ZStationDetail = ZStationView.extend({
  registeredAt: isoTime.nullable(),
  configuration: z.array(z.object({ key: z.string(), value: z.string().nullable(), readonly: z.boolean() })).nullable(),
  variables: z.array(z.object({ component: z.string(), variable: z.string(), value: z.string().nullable() })).nullable(),
});
export type StationDetail = z.infer<typeof ZStationDetail>;

export const ZStationsSnapshot = z.object({ epoch: z.string().min(1).max(64), seq: count, stations: z.array(ZStationView) });
export type StationsSnapshot = z.infer<typeof ZStationsSnapshot>;

/** A page of a list endpoint: items newest first (or by id), a cursor for the next page. */
export const zPage = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable(), total: count.optional() });
export type Page<T> = { items: T[]; nextCursor: string | null; total?: number };

export const ZMessageLogEntry = z.object({
  id: z.string(),
  at: isoTime,
  direction: z.enum(["in", "out"]),
  type: z.union([z.literal(2), z.literal(3), z.literal(4)]),
  action: z.string().nullable(),
  messageId: z.string(),
  payload: z.unknown(),
  errorCode: z.string().nullable(),
});
export type MessageLogEntry = z.infer<typeof ZMessageLogEntry>;

export const ZTransactionView = z.object({
  id: z.string().min(1).max(100),
  stationId: z.string().min(1).max(48),
  evseId: count,
  connectorId: count,
  idTag: z.string().max(100).nullable(),
  startedAt: isoTime,
  stoppedAt: isoTime.nullable(),
  meterStartWh: z.number().finite().nullable(),
  meterStopWh: z.number().finite().nullable(),
  /** Energy of this session so far (active) or in total (stopped): register − start. */
  energyWh: z.number().finite(),
  stopReason: z.string().max(100).nullable(),
  active: z.boolean(),
});
export type TransactionView = z.infer<typeof ZTransactionView>;

export const ZMeterSample = z.object({
  at: isoTime,
  powerW: watts.nullable(),
  /** The meter register (absolute, Wh), as the station sent it. */
  energyWh: z.number().finite().nullable(),
  socPct: z.number().finite().nullable(),
  /** Energy of the session at this sample: register − the transaction's start (Wh). Plot this, not `energyWh`. */
  sessionEnergyWh: z.number().finite().nullable().optional(),
});
export type MeterSample = z.infer<typeof ZMeterSample>;
export const ZTransactionDetail = ZTransactionView.extend({ samples: z.array(ZMeterSample) });
export type TransactionDetail = z.infer<typeof ZTransactionDetail>;

/** The `meter` event of the live feed: the latest reading of one connector. */
export const ZMeterEvent = z.object({
  stationId: z.string().min(1).max(48),
  evseId: count,
  connectorId: count,
  transactionId: z.string().max(100).nullable(),
  at: isoTime,
  powerW: watts.nullable(),
  /** The meter register (absolute, Wh). */
  energyWh: z.number().finite().nullable(),
  socPct: z.number().finite().nullable(),
  /** Energy of the session so far: register − start (Wh); null without a transaction. */
  sessionEnergyWh: z.number().finite().nullable().optional(),
});
export type MeterEvent = z.infer<typeof ZMeterEvent>;

export const TOKEN_STATUSES = ["Accepted", "Blocked", "Expired", "Invalid"] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];
export const ZTokenView = z.object({
  idTag: z.string().min(1).max(36),
  status: z.enum(TOKEN_STATUSES),
  expiresAt: isoTime.nullable(),
  note: z.string().max(200).nullable(),
  updatedAt: isoTime,
});
export type TokenView = z.infer<typeof ZTokenView>;

/**
 * The manager's answer to `POST /stations/{id}/commands` (always HTTP 200 once valid):
 * - `accepted` — the station said yes (Accepted, Scheduled, Unlocked, RebootRequired…);
 * - `rejected` — the station answered but said no; `reason` carries its reason
 *   (2.0.1 `statusInfo.reasonCode`, e.g. TxInProgress, or the 1.6 status such as NotSupported);
 * - `failed` — a CALLERROR (the station's or the gateway's): `errorCode` + `errorDescription`;
 * - `timed_out` — sent, but no answer came within the timeout;
 * - `offline` — the station was not connected: nothing was sent.
 */
export const MANAGER_COMMAND_STATUSES = ["accepted", "rejected", "failed", "timed_out", "offline"] as const;
export type ManagerCommandStatus = (typeof MANAGER_COMMAND_STATUSES)[number];
export const ZManagerCommandResult = z.object({
  status: z.enum(MANAGER_COMMAND_STATUSES),
  ocppAction: z.string().max(64).optional(),
  request: z.record(z.string(), z.unknown()).optional(),
  response: z.record(z.string(), z.unknown()).optional(),
  errorCode: z.string().max(128).optional(),
  errorDescription: z.string().max(1024).optional(),
  /** The station's reason for a rejection (statusInfo.reasonCode, or the status it answered). */
  reason: z.string().max(128).optional(),
  /** The station's extra words on it (statusInfo.additionalInfo), when it gave any. */
  reasonDetail: z.string().max(1024).optional(),
  /** Whether a CALL was published to the station at all (false for `offline`). */
  sent: z.boolean().optional(),
});
export type ManagerCommandResult = z.infer<typeof ZManagerCommandResult>;

/** Short labels for the outcome statuses (badges, tables). */
export const COMMAND_STATUS_LABELS: Record<ManagerCommandStatus | "pending", string> = {
  pending: "Pending",
  accepted: "Accepted",
  rejected: "Rejected",
  failed: "Failed",
  timed_out: "Timed out",
  offline: "Offline — not sent",
};

/** One sentence for an outcome, e.g. "Rejected by the station: TxInProgress". */
export const describeCommandResult = (r: Pick<ManagerCommandResult, "status" | "errorCode" | "errorDescription" | "reason" | "reasonDetail"> | { status: "pending" }): string => {
  switch (r.status) {
    case "pending":
      return "Waiting for the station's answer";
    case "accepted":
      return "Accepted by the station";
    case "rejected":
      return `Rejected by the station${r.reason ? `: ${r.reason}` : ""}${r.reasonDetail ? ` (${r.reasonDetail})` : ""}`;
    case "failed":
      return `Failed${r.errorCode ? `: ${r.errorCode}` : ""}${r.errorDescription ? ` — ${r.errorDescription}` : ""}`;
    case "timed_out":
      return "Timed out: the station did not answer";
    case "offline":
      return "Station offline: nothing was sent";
  }
};

/**
 * `GET /api/v0/commands/{commandId}`: what became of a command the console sent (pending
 * while the station has not answered). Kept at least 24 h.
 */
export const ZCommandRecord = ZManagerCommandResult.extend({
  status: z.enum(["pending", ...MANAGER_COMMAND_STATUSES]),
  commandId: z.uuid(),
  stationId: z.string().min(1).max(48),
  receivedAt: isoTime,
  completedAt: isoTime.nullable(),
});
export type CommandRecord = z.infer<typeof ZCommandRecord>;

/** Every error the manager answers with: `{ error, message, fields? }`. */
export const ZApiError = z.object({
  error: z.string(),
  message: z.string(),
  fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof ZApiError>;

/** Events of the manager's SSE feed (`GET /api/v0/events`) by their `event:` name. */
export const FEED_EVENT_SCHEMAS = {
  station: ZStationView,
  transaction: ZTransactionView,
  meter: ZMeterEvent,
} as const;
export type FeedEventType = keyof typeof FEED_EVENT_SCHEMAS;
export const FEED_EVENT_TYPES = Object.keys(FEED_EVENT_SCHEMAS) as FeedEventType[];

/**
 * What one manager tells the others on `<prefix>/feed/<managerId>` so every replica's feed
 * carries every change: `{ t: <event type>, d: <event> }`.
 */
export const ZManagerFeedMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("station"), d: ZStationView }),
  z.object({ t: z.literal("transaction"), d: ZTransactionView }),
  z.object({ t: z.literal("meter"), d: ZMeterEvent }),
]);
export type ManagerFeedMessage = z.infer<typeof ZManagerFeedMessage>;
