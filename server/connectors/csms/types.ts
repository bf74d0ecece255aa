/**
 * The CSMS manager's HTTP API shapes (services/csms/manager/API.md), as the console sees
 * them after JSON parsing: times stay ISO-8601 strings, exactly as the manager sends them.
 */
export type ProtocolVersion = "ocpp1.6" | "ocpp2.0.1";

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

export type ConnectorView = { evseId: number; connectorId: number; status: string; errorCode: string | null; updatedAt: string | null };

export type StationView = {
  id: string;
  protocol: ProtocolVersion | null;
  online: boolean;
  lastSeenAt: string | null;
  bootedAt: string | null;
  heartbeatIntervalSec: number | null;
  vendor: string | null;
  model: string | null;
  firmwareVersion: string | null;
  serialNumber: string | null;
  gateway: string | null;
  connectors: ConnectorView[];
  activeTransactionIds: string[];
  powerW: number | null;
  energyTodayWh: number;
};

export type StationDetail = StationView & {
  registeredAt: string | null;
  configuration: { key: string; value: string | null; readonly: boolean }[] | null;
  variables: { component: string; variable: string; value: string | null }[] | null;
};

export type StationsSnapshot = { epoch: string; seq: number; stations: StationView[] };

export type Page<T> = { items: T[]; nextCursor: string | null; total?: number };

export type MessageLogEntry = {
  id: string;
  at: string;
  direction: "in" | "out";
  type: 2 | 3 | 4;
  action: string | null;
  messageId: string;
  payload: unknown;
  errorCode: string | null;
};

export type TransactionView = {
  id: string;
  stationId: string;
  evseId: number | null;
  connectorId: number | null;
  idTag: string | null;
  startedAt: string;
  stoppedAt: string | null;
  meterStartWh: number | null;
  meterStopWh: number | null;
  energyWh: number | null;
  stopReason: string | null;
  active: boolean;
};

export type MeterSample = { at: string; powerW: number | null; energyWh: number | null; socPct: number | null };
export type TransactionDetail = TransactionView & { samples: MeterSample[] };

/** The `meter` event of the live feed. */
export type MeterEvent = {
  stationId: string;
  evseId: number | null;
  connectorId: number | null;
  transactionId: string | null;
  at: string;
  powerW: number | null;
  energyWh: number | null;
  socPct: number | null;
};

export const TOKEN_STATUSES = ["Accepted", "Blocked", "Expired", "Invalid"] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];
export type TokenView = { idTag: string; status: TokenStatus; expiresAt: string | null; note: string | null; updatedAt: string };

export const COMMAND_ACTIONS = [
  "remoteStart",
  "remoteStop",
  "reset",
  "unlockConnector",
  "changeAvailability",
  "triggerMessage",
  "getConfiguration",
  "changeConfiguration",
  "clearCache",
  "setChargingProfile",
  "getTransactionStatus",
] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

export type ManagerCommandResult = {
  status: "accepted" | "rejected" | "failed" | "timed_out" | "offline";
  ocppAction?: string;
  request?: unknown;
  response?: unknown;
  errorCode?: string;
  errorDescription?: string;
};
