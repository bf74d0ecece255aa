import { createRPCError } from "ocpp-rpc";
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import type pino from "pino";
import type { csmsTopics, OcppVersion } from "../../../contracts/csms/mqtt";
import type { Authenticate } from "./auth";
import type { FloodGuard, FloodLimit } from "./flood";
import type { createMetrics } from "./metrics";
import type { RateLimit, TokenBucket } from "./rate-limit";
import type { CsmsProcessOptions } from "../common";

/** The gateway's options (re-exported by gateway.ts) and the state its modules share. */

export type GatewayOptions = CsmsProcessOptions & {
  /** Decides who may connect; see auth.ts for the contract and the stock implementations. */
  authenticate: Authenticate;
  /** How long a station CALL waits for the manager, and a manager CALL for the station. */
  callTimeoutMs?: number;
  /** Manager CALLs queued behind the one in flight per station (MaEVe: 5). */
  maxQueuedCalls?: number;
  /** Largest websocket message accepted; bigger ones close the socket with 1009. */
  maxFrameBytes?: number;
  /** Per-station limit on CALLs; excess CALLs get a SecurityError CALLERROR. */
  rateLimit?: RateLimit;
  /** What happens to a station that keeps sending once the rate limit refuses it (pause reading, then 1008). */
  floodLimit?: FloodLimit;
  /**
   * Upgrades waiting for authentication at once; more are refused with 503 + Retry-After
   * (an answer the station backs off on) rather than piling up until sockets reset.
   */
  maxPendingUpgrades?: number;
  /** TCP accept backlog (capped by the kernel's somaxconn); a boot storm needs more than Node's 511. */
  listenBacklog?: number;
  /** Consecutive malformed frames tolerated before the socket is closed with 1002. */
  maxBadMessages?: number;
  /**
   * How long the gateway keeps listening for manager CALLs to a station after its socket
   * closed, answering them StationOffline instead of letting them vanish. Ends early when
   * the station shows up on another gateway.
   */
  offlineLingerMs?: number;
  /**
   * QoS of the in/out traffic. 1 (the default) lets a manager with a persistent session
   * receive what was published while it was down; MaEVe uses 0. Presence is always QoS 1 and retained.
   */
  qos?: 0 | 1;
  /**
   * A station CALL the manager has not answered after this long is published again (same
   * id; the manager answers a repeat once), until `callTimeoutMs`: a manager killed while
   * handling it, and restarted, still answers. 0 turns retries off.
   */
  retryMs?: number;
  /** Unique per process; appears in presence messages. */
  gatewayId?: string;
  connectTimeoutMs?: number;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Websocket keep-alive ping interval (dead TCP connections are dropped after one missed pong). */
  pingIntervalMs?: number;
  log?: pino.Logger;
};

export type Gateway = {
  /** Base websocket URL; stations connect to `${url}/ws/<stationId>`. */
  url: string;
  /** Same server: GET /health and GET /metrics. */
  httpUrl: string;
  gatewayId: string;
  /** Station ids with an open socket on this gateway. */
  stations: () => string[];
  /** Marks every station offline, closes sockets (1001), then the broker connection. Idempotent. */
  close: () => Promise<void>;
};

/** Server preference when a station offers both: the newer protocol. */
export const PROTOCOLS: OcppVersion[] = ["ocpp2.0.1", "ocpp1.6"];

export type PendingStationCall = {
  action: string;
  resolve: (response: Record<string, unknown>) => void;
  reject: (error: Error) => void;
};

/** One websocket connection of one station. */
export type Session = {
  stationId: string;
  protocol: OcppVersion;
  sessionId: string;
  connectedAt: number;
  client: RPCServerClient;
  open: boolean;
  /** Closed because a newer socket of the same station replaced it (here or on another gateway). */
  superseded: boolean;
  bucket: TokenBucket;
  flood: FloodGuard;
  /** Set once it is being disconnected for flooding (frames already buffered are still answered). */
  kicked?: boolean;
  /** Station CALLs published to the manager and awaiting its answer, by OCPP message id. */
  pending: Map<string, PendingStationCall>;
  /** Manager CALLs in flight or queued in ocpp-rpc's per-client queue. */
  managerCalls: number;
  /** The action of the manager CALL currently on the wire (callConcurrency is 1). */
  inflightAction?: string;
};

/** A station this gateway currently holds MQTT subscriptions for. */
export type Entry = {
  stationId: string;
  session?: Session;
  subscription: Promise<void>;
  lingerTimer?: NodeJS.Timeout;
  /** Protocol of the last session, for StationOffline answers while lingering. */
  protocol: OcppVersion;
};

/** What startGateway sets up once, shared by connection.ts, station-calls.ts, manager-calls.ts, mqtt-link.ts and upgrade.ts. */
export type GatewayContext = {
  opts: GatewayOptions;
  log: pino.Logger;
  gatewayId: string;
  prefix: string;
  topics: ReturnType<typeof csmsTopics>;
  qos: 0 | 1;
  callTimeoutMs: number;
  maxQueuedCalls: number;
  maxFrameBytes: number;
  rateLimit: RateLimit;
  floodLimit: FloodLimit;
  offlineLingerMs: number;
  retryMs: number;
  /** Stations this gateway holds MQTT subscriptions for, by id. */
  stations: Map<string, Entry>;
  /** At most one log line per key and 10 s. */
  shouldLog: (key: string) => boolean;
  metrics: ReturnType<typeof createMetrics>;
  /** closing: the gateway is shutting down. */
  state: { closing: boolean };
};

export const openSessions = (stations: Map<string, Entry>) => [...stations.values()].flatMap((e) => (e.session?.open ? [e.session] : []));

/** ocpp-rpc's typings declare its errors as plain records; they are Error subclasses. */
export const rpcError = (code: string, message: string) => createRPCError(code, message) as unknown as Error;

export const errorCodeOf = (error: unknown) =>
  typeof (error as { rpcErrorCode?: unknown })?.rpcErrorCode === "string" ? (error as { rpcErrorCode: string }).rpcErrorCode : undefined;
export const isTimeout = (error: unknown) => (error as Error | undefined)?.constructor?.name === "TimeoutError";
