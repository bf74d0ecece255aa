import type pino from "pino";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import type { ChargerKind, Ev, Flow } from "./physics";
import type { Scheduler } from "./scheduler";

/** The simulator's public types (re-exported by station.ts) and the shapes its modules share. */

export type Behaviour = "demo" | "idle";

export type StationSimOptions = {
  id: string;
  /** The gateway's base websocket URL (ws://host:port); `/ws/<id>` is appended. */
  url: string;
  password?: string;
  protocol: OcppVersion;
  connectors?: number;
  seed?: number;
  /** Simulated seconds per wall-clock second for physics and behaviour (default 1). */
  speed?: number;
  /** demo: cars arrive, charge and leave, faults happen now and then. idle: only what the API or the CSMS asks. */
  behaviour?: Behaviour;
  kind?: ChargerKind;
  /** Wall-clock meter interval; overrides MeterValueSampleInterval / TxUpdatedInterval ÷ speed. */
  meterIntervalMs?: number;
  /** Reboot pause after a Reset, picked uniformly from [min, max] ms. */
  rebootDelayMs?: [number, number];
  /** Wait before retrying a BootNotification that failed (no answer, CALLERROR). */
  bootRetryMs?: number;
  callTimeoutMs?: number;
  /** Shared by a fleet; a lone station makes its own. */
  scheduler?: Scheduler;
  log?: pino.Logger;
};

export type ConnectorState = {
  id: number;
  status: string | undefined;
  plugged: boolean;
  operative: boolean;
  faulted: boolean;
  powerW: number;
  energyWh: number;
  socPct?: number;
  transaction?: { id: string; idTag: string; startedAt: number; meterStartWh: number; energyWh: number; active: boolean };
};

export type StationState = {
  id: string;
  protocol: OcppVersion;
  kind: ChargerKind;
  connected: boolean;
  bootStatus: "None" | "Pending" | "Rejected" | "Accepted";
  heartbeatIntervalS: number;
  operative: boolean;
  connectors: ConnectorState[];
  stats: { boots: number; calls: number; callErrors: number; validationFailures: number; reconnects: number; queuedTxMessages: number; txMessagesSentLater: number };
};

export type StationSim = {
  id: string;
  protocol: OcppVersion;
  state: () => StationState;
  /** Resolves at the next accepted BootNotification (at once if already booted). */
  waitForBoot: () => Promise<void>;
  /** Plugs a car in; by default authorizes and starts a transaction. Resolves when that flow ends. */
  plugIn: (connectorId: number, opts?: { idTag?: string; ev?: Partial<Ev>; autoStart?: boolean }) => Promise<void>;
  /** Stops the transaction (EVDisconnected) if any and unplugs. */
  unplug: (connectorId: number) => Promise<void>;
  /** Stops a transaction as if the driver presented their card again. */
  stopTransaction: (connectorId: number) => Promise<void>;
  /** Faulted (ending any transaction); back to normal after `durationMs` or clearFault. */
  fault: (connectorId: number, opts?: { errorCode?: string; durationMs?: number }) => Promise<void>;
  clearFault: (connectorId: number) => Promise<void>;
  close: () => Promise<void>;
};

export type StopReason = "local" | "remote" | "evDisconnected" | "softReset" | "hardReset" | "immediateReset" | "unlock" | "deauthorized" | "fault";

export type Transaction = {
  /** 2.0.1 transactionId (the station's own); also the key the API reports for 2.0.1. */
  localId: string;
  /** 1.6 transactionId assigned by the CSMS in StartTransaction.conf. */
  remoteId?: number;
  idTag: string;
  startedAt: number;
  meterStartWh: number;
  seqNo: number;
  /** True once the CSMS knows about it; meter values flow from then on. */
  active: boolean;
  stopping: boolean;
  nextMeterAt: number;
  remoteStartId?: number;
};

export type Connector = {
  id: number;
  operative: boolean;
  /** A ChangeAvailability that waits for the running transaction to end. */
  pendingOperative?: boolean;
  plugged: boolean;
  ev?: Ev;
  faulted?: { errorCode: string; until?: number };
  tx?: Transaction;
  flow: Flow;
  lastAdvance: number;
  /** The last status sent, in the station's protocol's vocabulary. */
  lastStatus?: string;
  finishing: boolean;
  defaultLimitW?: number;
  txLimitW?: number;
  /** A TxProfile that came with a remote start; applies when the transaction starts. */
  pendingTxLimitW?: number;
  pendingReset: boolean;
  /** Set while a plug-in/start/stop flow runs, so demo behaviour leaves it alone. */
  busy: boolean;
  leaveAt?: number;
  unplugAt?: number;
};

export type Params = Record<string, unknown>;
export type Json = Record<string, unknown>;
/** The CSMS → station command handlers of one protocol family, by action. */
export type Handlers = Record<string, (p: Params) => Json | Promise<Json>>;

export const iso = (ms = Date.now()) => new Date(ms).toISOString();
