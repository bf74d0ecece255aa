import { randomBytes } from "node:crypto";
import type { Prisma, PrismaClient } from "@prisma/client";
import type { MqttClient } from "mqtt";
import type pino from "pino";
import { logger as defaultLogger } from "../../../lib/log";
import { csmsTopics, type OcppVersion, type StationPresence } from "../../../contracts/csms/mqtt";
import { createFeed } from "./feed";
import { createLogThrottle, type BadPayloadKind } from "./input";
import { createMetrics } from "./metrics";
import type { TxWrite } from "./write-behind";
import type { CsmsProcessOptions } from "../common";

/**
 * What every part of the manager shares (manager.ts wires the parts): its options, the
 * in-memory station map, presence, the MQTT client, metrics, the per-station queue. Parts
 * get this object and each other's functions passed in, never through module globals.
 */

export type ManagerOptions = CsmsProcessOptions & {
  /** MQTT 5 shared-subscription group (`$share/<group>/<prefix>/in/+/+`), with `affinity: "share"`. */
  shareGroup?: string;
  /**
   * How managers split the stations (ownership.ts): `station` (default) = each station is
   * owned by one live manager (rendezvous hash over the members heard on the feed topics);
   * `share` = MQTT 5 shared subscription, any manager may get any message.
   */
  affinity?: "station" | "share";
  /** Affinity: how often this manager announces itself (ms, default 1000). */
  memberIntervalMs?: number;
  /** Affinity: a peer not heard for this long is gone (ms, default 3000). */
  memberGoneMs?: number;
  /** Affinity: how long to wait for peers' answers before subscribing the station topics (ms, default 300). */
  settleMs?: number;
  /** Affinity: a gained station is loaded from the database this long after the change (ms, default 500). */
  handoverMs?: number;
  db: PrismaClient;
  /** Bearer token for /api/v0/*. */
  apiToken: string;
  /** Expected `x-gateway-token` on the gateway's auth lookup; unset → lookups need no token. */
  gatewayToken?: string;
  /** Unknown idTags are Accepted instead of Invalid (embedded demo). */
  acceptUnknownTokens?: boolean;
  /**
   * Lets `POST /api/v0/cs/{id}` register without the bearer token (the embedded demo's
   * simulators register that way). Off by default: anyone could otherwise set a password.
   */
  openRegistration?: boolean;
  /**
   * Highest connector / EVSE id a station may use unless it declared fewer
   * (1.6 `NumberOfConnectors`); anything above is refused with a CALLERROR.
   */
  maxConnectorId?: number;
  /** What BootNotification answers; online = any message within 2× this. */
  heartbeatIntervalSec?: number;
  commandTimeoutMs?: number;
  messageLogDays?: number;
  /** How long command outcomes are kept under their commandId (at least 24). */
  commandResultHours?: number;
  /** Unique per process; prefixes the ids of this manager's CALLs (≤ 8 characters). */
  managerId?: string;
  /**
   * Keep the MQTT session (and its QoS 1 station subscription) across restarts, so the
   * broker queues station messages while this manager is down. Default: on when
   * `managerId` is given (a session needs a stable client id), off for a random id.
   */
  durableSession?: boolean;
  /** How long the broker keeps a durable session of a manager that is gone (MQTT 5). */
  sessionExpirySec?: number;
  feedBufferSize?: number;
  /** How often stations are checked for going offline. */
  sweepIntervalMs?: number;
  /** How long `startManager` waits for the first MQTT connection. */
  connectTimeoutMs?: number;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  log?: pino.Logger;
};

/** A transaction as the manager keeps it: the row it writes (write-behind.ts), `seq` known for 1.6 only. */
export type TxState = Omit<TxWrite, "seq"> & { seq?: number | null };
export type ConnectorState = { evseId: number; connectorId: number; status: string; errorCode: string | null; updatedAt: Date; powerW?: number | null };
export type StationState = {
  id: string;
  exists: boolean;
  protocol: OcppVersion | null;
  registeredAt: Date | null;
  vendor: string | null;
  model: string | null;
  firmwareVersion: string | null;
  serialNumber: string | null;
  heartbeatIntervalSec: number;
  bootedAt: Date | null;
  lastSeenAt: Date | null;
  gateway: string | null;
  connectors: Map<string, ConnectorState>;
  /** Active transactions and those started today (for energyTodayWh). */
  txs: Map<string, TxState>;
  loadedAt: number;
  /** `online` of the last station event this manager published for it. */
  emittedOnline?: boolean;
  /** Connectors the station declared (1.6 NumberOfConnectors), when it told us. */
  declaredConnectors?: number;
};

export type StationRow = Prisma.CsmsStationGetPayload<{ include: { connectors: true } }>;
export type TxRow = Prisma.CsmsTransactionGetPayload<object>;
export type Req = Record<string, unknown>;

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
export const startOfToday = () => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
};
export const connectorKey = (evseId: number, connectorId: number) => `${evseId}/${connectorId}`;

export const createContext = (opts: ManagerOptions) => {
  const log = opts.log ?? defaultLogger();
  const prefix = opts.topicPrefix ?? "cs";
  const managerId = opts.managerId ?? randomBytes(4).toString("hex");
  if (!/^[A-Za-z0-9_-]{1,8}$/.test(managerId)) throw new Error("managerId must be 1–8 letters, digits, _ or -");
  const shouldLog = createLogThrottle(10_000);

  /** Mutable state the parts share. */
  const state = {
    cache: new Map<string, StationState>(),
    loading: new Map<string, Promise<StationState>>(),
    presence: new Map<string, StationPresence>(),
    mqtt: undefined as MqttClient | undefined,
    closing: false,
    /** Every station in the database is in the cache (until another manager shows up). */
    warmed: false,
    /**
     * Alone on the broker, this manager's view is the truth: nothing else changes the rows.
     * Set once another manager shows up (its feed events arrive).
     */
    otherManagers: false,
  };
  const feed = createFeed({ size: opts.feedBufferSize ?? 10_000 });
  const metrics = createMetrics({ mqttConnected: () => !!state.mqtt?.connected, feedClients: () => feed.clients(), cachedStations: () => state.cache.size });

  const stationQueues = new Map<string, Promise<void>>();
  /** Messages of one station are handled in order on this manager. */
  const serial = (stationId: string, fn: () => Promise<void>) => {
    const prev = stationQueues.get(stationId) ?? Promise.resolve();
    const next = prev.then(fn).catch((error: unknown) => {
      if (shouldLog(`handle:${stationId}`)) log.warn({ stationId, err: (error as Error).message }, "handling a station message failed");
    });
    stationQueues.set(stationId, next);
    void next.finally(() => {
      if (stationQueues.get(stationId) === next) stationQueues.delete(stationId);
    });
    return next;
  };

  /** Counts and logs (throttled) a message that broke its contract; nothing else happens with it. */
  const dropBad = (kind: BadPayloadKind, reason: "json" | "schema" | "topic", topic: string, detail = "") => {
    metrics.badPayloads.inc({ kind, reason });
    if (shouldLog(`bad:${kind}:${topic}`)) log.warn({ topic, kind, reason, detail: detail.slice(0, 300) }, "MQTT message dropped: it breaks contracts/csms");
  };

  return {
    opts,
    log,
    db: opts.db,
    prefix,
    topics: csmsTopics(prefix),
    managerId,
    heartbeatIntervalSec: opts.heartbeatIntervalSec ?? 60,
    commandTimeoutMs: opts.commandTimeoutMs ?? 15_000,
    maxConnectorId: opts.maxConnectorId ?? 32,
    shouldLog,
    state,
    feed,
    metrics,
    serial,
    /** The per-station queues still running (close waits for them). */
    inFlight: () => [...stationQueues.values()],
    dropBad,
  };
};
export type ManagerContext = ReturnType<typeof createContext>;
