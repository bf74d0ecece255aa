import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Prisma, type PrismaClient } from "@prisma/client";
import type { IPublishPacket, MqttClient } from "mqtt";
import type pino from "pino";
import { logger as defaultLogger } from "../../../lib/log";
import {
  csmsTopics,
  envelopeSchema,
  GATEWAY_ERROR,
  gatewayStatusSchema,
  isOcppVersion,
  isValidStationId,
  parseStationTopic,
  STATION_ACTIONS,
  stationPresenceSchema,
  type Envelope,
  type ErrorEnvelope,
  type OcppVersion,
  type ResultEnvelope,
  type StationPresence,
} from "../../../contracts/csms/mqtt";
import { createApi } from "./api";
import { createBatcher } from "./batch";
import { actionLabel, CallRefused, createLogThrottle, jsonSafe, parsePayload, unstorableField, type BadPayloadKind } from "./input";
import { createMetrics } from "./metrics";
import { connectManagerMqtt } from "./mqtt-link";
import { createWriteBehind, type TxWrite } from "./write-behind";
import { formatComponent, formatVariable, type Component201, type Variable201 } from "../../../contracts/csms/commands";
import { mapCommand, outcomeOf, rejectionReason } from "./commands";
import { createCommandRecords, type CommandBody } from "./command-records";
import { createFeed, type FeedEventType } from "./feed";
import { bootInfo, parseMeterValues, parseTime, type Sample } from "./ocpp";
import { urlHost, withTimeout } from "../../../lib/net";
import { ZManagerFeedMessage, type MeterEvent, type StationView, type TransactionView } from "../../../contracts/csms/api";

export type ManagerOptions = {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  topicPrefix?: string;
  /** MQTT 5 shared-subscription group (`$share/<group>/<prefix>/in/+/+`). */
  shareGroup?: string;
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

export type Manager = {
  url: string;
  managerId: string;
  /** True when the broker honours `$share` (the in-topics are load-balanced across managers). */
  sharedSubscription: () => boolean;
  /** Writes every batched row (message log, samples, last-seen) to the database now. */
  flush: () => Promise<void>;
  /** Flushes batches, stops HTTP, SSE and MQTT. Does not close `db`. Idempotent. */
  close: () => Promise<void>;
};

export type { ConnectorView, MeterEvent, StationView, TransactionView } from "../../../contracts/csms/api";
export type CommandResult = {
  status: "accepted" | "rejected" | "failed" | "timed_out" | "offline";
  ocppAction: string;
  request: Record<string, unknown>;
  response?: Record<string, unknown>;
  errorCode?: string;
  errorDescription?: string;
  /** The station's reason for a rejection (statusInfo.reasonCode, or the status it answered). */
  reason?: string;
  reasonDetail?: string;
  /** Whether a CALL was published at all. */
  sent: boolean;
};

/** A transaction as the manager keeps it: the row it writes (write-behind.ts), `seq` known for 1.6 only. */
type TxState = Omit<TxWrite, "seq"> & { seq?: number | null };
type ConnectorState = { evseId: number; connectorId: number; status: string; errorCode: string | null; updatedAt: Date; powerW?: number | null };
type StationState = {
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

type StationRow = Prisma.CsmsStationGetPayload<{ include: { connectors: true } }>;
type TxRow = Prisma.CsmsTransactionGetPayload<object>;

const CACHE_TTL_MS = 60_000;
const OFFLINE_DESCRIPTION = "the station is not connected; nothing was sent";
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const startOfToday = () => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
};
const connectorKey = (evseId: number, connectorId: number) => `${evseId}/${connectorId}`;


export const startManager = async (opts: ManagerOptions): Promise<Manager> => {
  const log = opts.log ?? defaultLogger();
  const db = opts.db;
  const host = opts.host ?? "127.0.0.1";
  const prefix = opts.topicPrefix ?? "cs";
  const group = opts.shareGroup ?? "manager";
  const topics = csmsTopics(prefix);
  const heartbeatIntervalSec = opts.heartbeatIntervalSec ?? 60;
  const defaultHeartbeatSec = heartbeatIntervalSec;
  const commandTimeoutMs = opts.commandTimeoutMs ?? 15_000;
  const messageLogDays = opts.messageLogDays ?? 7;
  const managerId = opts.managerId ?? randomBytes(4).toString("hex");
  const durable = opts.durableSession ?? opts.managerId !== undefined;
  if (!/^[A-Za-z0-9_-]{1,8}$/.test(managerId)) throw new Error("managerId must be 1–8 letters, digits, _ or -");
  const replyTopic = topics.reply;
  const feedTopic = topics.feed;
  const shouldLog = createLogThrottle(10_000);

  const cache = new Map<string, StationState>();
  const loading = new Map<string, Promise<StationState>>();
  const presence = new Map<string, StationPresence>();
  const feed = createFeed({ size: opts.feedBufferSize ?? 10_000 });
  let mqtt: MqttClient | undefined;
  let shared = false;
  let closing = false;

  const metrics = createMetrics({ mqttConnected: () => !!mqtt?.connected, feedClients: () => feed.clients(), cachedStations: () => cache.size });

  // ---------- batched writes ----------

  type LogRow = Prisma.CsmsMessageLogCreateManyInput;
  const messageLog = createBatcher<LogRow>({
    write: async (rows) => {
      await db.csmsMessageLog.createMany({ data: rows });
      metrics.batchRows.inc({ table: "message_log" }, rows.length);
    },
    writeOne: (row) => db.csmsMessageLog.create({ data: row }),
    onError: (error, n) => (metrics.batchErrors.inc({ table: "message_log" }), log.warn({ err: error.message, rows: n }, "message log batch failed")),
  });
  const samples = createBatcher<Prisma.CsmsMeterSampleCreateManyInput>({
    write: async (rows) => {
      await db.csmsMeterSample.createMany({ data: rows });
      metrics.batchRows.inc({ table: "meter_sample" }, rows.length);
    },
    onError: (error, n) => (metrics.batchErrors.inc({ table: "meter_sample" }), log.warn({ err: error.message, rows: n }, "meter sample batch failed")),
  });
  /** Station, connector and transaction state, answered from memory and written behind (write-behind.ts). */
  const writes = createWriteBehind({
    db,
    onRows: (table, n) => metrics.batchRows.inc({ table }, n),
    onError: (table, error, n) => {
      metrics.batchErrors.inc({ table });
      if (shouldLog(`write-behind:${table}`)) log.warn({ table, rows: n, err: error.message }, "write-behind batch failed");
    },
  });
  const txWrite = (t: TxState) => writes.tx({ ...t, seq: t.seq ?? null });
  /** Last-seen times and running transaction values, written together once a second. */
  const dirtySeen = new Map<string, Date>();
  const dirtyTx = new Map<string, TxState>();
  const flushState = async () => {
    // Rows the running values update must exist first.
    await writes.flush();
    if (dirtySeen.size) {
      const entries = [...dirtySeen.entries()];
      dirtySeen.clear();
      await db
        .$executeRawUnsafe(
          `UPDATE "csms"."station" AS s SET "lastSeenAt" = v.at
           FROM (SELECT unnest($1::text[]) AS id, unnest($2::text[])::timestamp(3) AS at) AS v
           WHERE s.id = v.id AND (s."lastSeenAt" IS NULL OR s."lastSeenAt" < v.at)`,
          entries.map(([id]) => id),
          entries.map(([, at]) => at.toISOString()),
        )
        .catch((error: Error) => log.warn({ err: error.message }, "last-seen update failed"));
    }
    if (dirtyTx.size) {
      const txs = [...dirtyTx.values()];
      dirtyTx.clear();
      await db
        .$executeRawUnsafe(
          `UPDATE "csms"."transaction" AS t SET "energyWh" = v.energy, "powerW" = v.power, "socPct" = v.soc, "meterStartWh" = COALESCE(t."meterStartWh", v.start), "updatedAt" = now()
           FROM (SELECT unnest($1::text[]) AS id, unnest($2::float8[]) AS energy, unnest($3::float8[]) AS power, unnest($4::float8[]) AS soc, unnest($5::float8[]) AS start) AS v
           WHERE t.id = v.id AND t.active`,
          txs.map((t) => t.id),
          txs.map((t) => t.energyWh),
          txs.map((t) => t.powerW),
          txs.map((t) => t.socPct),
          txs.map((t) => t.meterStartWh),
        )
        .catch((error: Error) => log.warn({ err: error.message }, "transaction update failed"));
    }
  };
  let stateFlush: Promise<void> = Promise.resolve();
  const flushStateSerial = () => (stateFlush = stateFlush.then(flushState));
  const stateTimer = setInterval(() => void flushStateSerial(), 1000);
  stateTimer.unref();
  const flush = async () => {
    await writes.flush();
    await Promise.all([messageLog.flush(), samples.flush(), flushStateSerial(), commandRecords.flush()]);
  };

  const logFrame = (stationId: string, direction: "in" | "out", envelope: Envelope) =>
    messageLog.push({
      at: new Date(),
      stationId,
      direction,
      type: envelope.type,
      action: envelope.action ?? null,
      messageId: envelope.id,
      payload: jsonSafe(envelope),
      errorCode: envelope.type === 4 ? envelope.error_code : null,
    });

  const retention = async () => {
    const cutoff = new Date(Date.now() - messageLogDays * 86_400_000);
    const { count } = await db.csmsMessageLog.deleteMany({ where: { at: { lt: cutoff } } });
    if (count) log.info({ count, cutoff: cutoff.toISOString() }, "message log retention");
    return count;
  };
  const retentionTimer = setInterval(() => void retention().catch((error: Error) => log.warn({ err: error.message }, "retention failed")), 3_600_000);
  retentionTimer.unref();

  // ---------- the in-memory view ----------

  const txFromRow = (r: TxRow): TxState => ({
    id: r.id,
    seq: r.seq,
    transactionId: r.transactionId,
    stationId: r.stationId,
    evseId: r.evseId,
    connectorId: r.connectorId,
    idTag: r.idTag,
    startedAt: r.startedAt,
    stoppedAt: r.stoppedAt,
    meterStartWh: r.meterStartWh,
    meterStopWh: r.meterStopWh,
    energyWh: r.energyWh,
    powerW: r.powerW,
    socPct: r.socPct,
    stopReason: r.stopReason,
    active: r.active,
  });
  const stateFromRows = (id: string, row: StationRow | null, txRows: TxRow[]): StationState => ({
    id,
    exists: !!row,
    protocol: row?.protocol && isOcppVersion(row.protocol) ? row.protocol : null,
    registeredAt: row?.registeredAt ?? null,
    vendor: row?.vendor ?? null,
    model: row?.model ?? null,
    firmwareVersion: row?.firmwareVersion ?? null,
    serialNumber: row?.serialNumber ?? null,
    heartbeatIntervalSec: row?.heartbeatIntervalSec ?? heartbeatIntervalSec,
    bootedAt: row?.bootedAt ?? null,
    lastSeenAt: row?.lastSeenAt ?? null,
    gateway: row?.gateway ?? null,
    connectors: new Map(
      (row?.connectors ?? []).map((c) => [connectorKey(c.evseId, c.connectorId), { evseId: c.evseId, connectorId: c.connectorId, status: c.status, errorCode: c.errorCode, updatedAt: c.updatedAt }]),
    ),
    txs: new Map(txRows.map((t) => [t.id, txFromRow(t)])),
    loadedAt: Date.now(),
  });
  /**
   * Loads every station (with connectors, open and today's transactions, configured
   * heartbeat intervals) into the cache in chunks at start, so the first message of each
   * station is answered from memory instead of waiting for two queries. Stations already
   * cached (a message came first) are left alone.
   */
  const configuredHeartbeats = new Map<string, number>();
  /** Every station in the database is in the cache (until another manager shows up). */
  let warmed = false;
  let heartbeatsLoaded = false;
  const warmUp = async () => {
    const started = Date.now();
    const hb = await db.csmsStationConfig.findMany({
      where: { OR: [{ key: "HeartbeatInterval" }, { component: "OCPPCommCtrlr", variable: "HeartbeatInterval" }], readonly: false },
      select: { stationId: true, value: true },
    });
    for (const r of hb) {
      const sec = Number(r.value);
      if (Number.isInteger(sec) && sec > 0 && sec <= 86_400) configuredHeartbeats.set(r.stationId, sec);
    }
    heartbeatsLoaded = true;
    const tokens = await db.csmsToken.findMany({ select: { idTag: true, status: true, expiresAt: true }, take: 50_001 });
    if (tokens.length <= 50_000) {
      const at = Date.now();
      for (const t of tokens) if (!tokenCache.has(t.idTag)) tokenCache.set(t.idTag, { token: { status: t.status, expiresAt: t.expiresAt }, at });
      tokensComplete = true;
    }
    let after: string | undefined;
    let n = 0;
    for (;;) {
      if (closing) return;
      const rows = await db.csmsStation.findMany({ where: after !== undefined ? { id: { gt: after } } : {}, include: { connectors: true }, orderBy: { id: "asc" }, take: 1000 });
      if (!rows.length) break;
      const txRows = await db.csmsTransaction.findMany({ where: txWhere(rows.map((r) => r.id)) });
      const byStation = new Map<string, TxRow[]>();
      for (const t of txRows) byStation.set(t.stationId, [...(byStation.get(t.stationId) ?? []), t]);
      for (const row of rows) {
        if (cache.has(row.id) || loading.has(row.id)) continue;
        cache.set(row.id, stateFromRows(row.id, row, byStation.get(row.id) ?? []));
        n++;
      }
      if (rows.length < 1000) break;
      after = rows[rows.length - 1].id;
    }
    warmed = true;
    log.info({ stations: n, tokens: tokens.length, ms: Date.now() - started }, "station cache warmed");
  };

  const txWhere = (stationIds?: string[]) => ({
    ...(stationIds ? { stationId: { in: stationIds } } : {}),
    OR: [{ active: true }, { startedAt: { gte: startOfToday() } }],
  });

  /**
   * Alone on the broker, this manager's view is the truth: nothing else changes the rows.
   * Once another manager shows up (its feed events arrive), cached stations are reloaded
   * after CACHE_TTL_MS so its changes can never be missed for long.
   */
  let otherManagers = false;
  const fresh = (st: StationState) => !otherManagers || Date.now() - st.loadedAt < CACHE_TTL_MS;
  const loadStation = async (id: string) => {
    const [row, txRows] = await Promise.all([
      db.csmsStation.findUnique({ where: { id }, include: { connectors: true } }),
      db.csmsTransaction.findMany({ where: { stationId: id, OR: [{ active: true }, { startedAt: { gte: startOfToday() } }] } }),
    ]);
    const st = stateFromRows(id, row, txRows);
    const old = cache.get(id);
    if (old) {
      // Keep what this process knows better than the (batched) database.
      if (old.lastSeenAt && (!st.lastSeenAt || old.lastSeenAt > st.lastSeenAt)) st.lastSeenAt = old.lastSeenAt;
      st.emittedOnline = old.emittedOnline;
      st.declaredConnectors = old.declaredConnectors;
      for (const [txId, t] of old.txs) {
        const fresh = st.txs.get(txId);
        if (fresh && fresh.active && t.active) Object.assign(fresh, { energyWh: t.energyWh, powerW: t.powerW, socPct: t.socPct });
      }
    }
    cache.set(id, st);
    return st;
  };
  const getStation = (id: string): Promise<StationState> => {
    const st = cache.get(id);
    if (st && fresh(st)) return Promise.resolve(st);
    if (st) {
      // Stale: answer from memory, refresh behind (other managers' changes), after our own writes.
      st.loadedAt = Date.now();
      void serial(id, async () => {
        await writes.flush();
        await loadStation(id);
      });
      return Promise.resolve(st);
    }
    let p = loading.get(id);
    if (!p && warmed && !otherManagers) {
      // Alone and warmed: a station not in the cache is not in the database either.
      const fresh = stateFromRows(id, null, []);
      cache.set(id, fresh);
      return Promise.resolve(fresh);
    }
    if (!p) {
      p = loadStation(id).finally(() => loading.delete(id));
      loading.set(id, p);
    }
    return p;
  };

  const isOnline = (id: string, lastSeenAt: Date | null, intervalSec: number, now = Date.now()) => {
    const p = presence.get(id);
    if (p?.online) return true;
    // A socket that closed after the last message means offline now, not in 2 intervals.
    if (p && (!lastSeenAt || p.at >= lastSeenAt.getTime())) return false;
    return !!lastSeenAt && now - lastSeenAt.getTime() < 2 * intervalSec * 1000;
  };

  const viewOf = (st: StationState, now = Date.now()): StationView => {
    const today = startOfToday();
    const active = [...st.txs.values()].filter((t) => t.active);
    const powers = active.map((t) => t.powerW).filter((p): p is number => p !== null);
    return {
      id: st.id,
      protocol: st.protocol ?? presence.get(st.id)?.protocol ?? null,
      online: isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec, now),
      lastSeenAt: iso(st.lastSeenAt),
      bootedAt: iso(st.bootedAt),
      heartbeatIntervalSec: st.heartbeatIntervalSec,
      vendor: st.vendor,
      model: st.model,
      firmwareVersion: st.firmwareVersion,
      serialNumber: st.serialNumber,
      gateway: presence.get(st.id)?.gateway ?? st.gateway,
      connectors: [...st.connectors.values()]
        .sort((a, b) => a.evseId - b.evseId || a.connectorId - b.connectorId)
        .map((c) => {
          const tx = active.find((t) => t.evseId === c.evseId && (t.connectorId === c.connectorId || st.protocol === "ocpp1.6"));
          return {
            evseId: c.evseId,
            connectorId: c.connectorId,
            status: c.status,
            errorCode: c.errorCode,
            updatedAt: c.updatedAt.toISOString(),
            transactionId: tx?.id ?? null,
            powerW: tx?.powerW ?? c.powerW ?? null,
            sessionEnergyWh: tx ? tx.energyWh : null,
          };
        }),
      activeTransactionIds: active.map((t) => t.id).sort(),
      powerW: powers.length ? powers.reduce((a, b) => a + b, 0) : null,
      energyTodayWh: [...st.txs.values()].filter((t) => t.startedAt >= today).reduce((sum, t) => sum + Math.max(0, t.energyWh), 0),
    };
  };
  const txView = (t: TxState): TransactionView => ({
    id: t.id,
    stationId: t.stationId,
    evseId: t.evseId,
    connectorId: t.connectorId,
    idTag: t.idTag,
    startedAt: t.startedAt.toISOString(),
    stoppedAt: iso(t.stoppedAt),
    meterStartWh: t.meterStartWh,
    meterStopWh: t.meterStopWh,
    energyWh: t.energyWh,
    stopReason: t.stopReason,
    active: t.active,
  });

  /** Views straight from the database (for lists and snapshots), overlaid with what this process knows. */
  /** One page of views in id order (`after` = the last id of the previous page, `take` ≤ a few thousand). */
  const loadViews = async ({ ids, where, after, take }: { ids?: string[]; where?: Prisma.CsmsStationWhereInput; after?: string; take?: number } = {}) => {
    await writes.flush();
    const rows = await db.csmsStation.findMany({
      where: { AND: [where ?? {}, ids ? { id: { in: ids } } : {}, after !== undefined ? { id: { gt: after } } : {}] },
      include: { connectors: true },
      orderBy: { id: "asc" },
      ...(take ? { take } : {}),
    });
    // Small result sets ask for their stations' transactions only; big ones for all of today's.
    const txRows = await db.csmsTransaction.findMany({ where: txWhere(rows.length <= 2000 ? rows.map((r) => r.id) : undefined) });
    const byStation = new Map<string, TxRow[]>();
    for (const t of txRows) {
      const list = byStation.get(t.stationId);
      if (list) list.push(t);
      else byStation.set(t.stationId, [t]);
    }
    const now = Date.now();
    return rows.map((row) => {
      const st = stateFromRows(row.id, row, byStation.get(row.id) ?? []);
      const cached = cache.get(row.id);
      if (cached?.lastSeenAt && (!st.lastSeenAt || cached.lastSeenAt > st.lastSeenAt)) st.lastSeenAt = cached.lastSeenAt;
      if (cached) {
        for (const [txId, t] of cached.txs) {
          const fresh = st.txs.get(txId);
          if (fresh?.active && t.active) Object.assign(fresh, { energyWh: t.energyWh, powerW: t.powerW, socPct: t.socPct });
        }
      }
      return { view: viewOf(st, now), row };
    });
  };

  // ---------- the live feed ----------

  const publishRaw = (topic: string, payload: string) =>
    new Promise<void>((resolve) => {
      if (!mqtt) return resolve();
      metrics.mqttMessages.inc({ direction: "published" });
      mqtt.publish(topic, payload, { qos: 0 }, (error) => {
        if (error && shouldLog(`publish:${topic}`)) log.warn({ topic, err: error.message }, "mqtt publish failed");
        resolve();
      });
    });

  /** Appends to this manager's feed; `broadcast` also tells the other managers (their feeds carry it too). */
  const emit = (type: FeedEventType, data: unknown, broadcast = true) => {
    feed.publish(type, data);
    metrics.feedEvents.inc({ type, origin: "local" });
    if (broadcast) void publishRaw(feedTopic(managerId), JSON.stringify({ t: type, d: data }));
  };
  const emitStation = (st: StationState, broadcast = true) => {
    const view = viewOf(st);
    st.emittedOnline = view.online;
    stationEmittedAt.set(st.id, Date.now());
    pendingStation.delete(st.id);
    emit("station", view, broadcast);
  };

  /**
   * Live figures (last seen, power, energy, connector values) after any station message:
   * at most one station event per station per second. The first change in a window goes
   * out at once (leading edge); later ones in the same window are folded into one event at
   * its end (trailing edge), so the view is never more than a second behind. These live
   * events go to the other managers only once there are any (state changes always do).
   */
  const STATION_WINDOW_MS = 1000;
  const stationEmittedAt = new Map<string, number>();
  const pendingStation = new Set<string>();
  const liveStation = (st: StationState) => {
    if (!st.exists) return;
    if (Date.now() - (stationEmittedAt.get(st.id) ?? 0) >= STATION_WINDOW_MS && !pendingStation.has(st.id)) emitStation(st, otherManagers);
    else pendingStation.add(st.id);
  };
  const flushLiveStations = () => {
    const now = Date.now();
    for (const id of pendingStation) {
      if (now - (stationEmittedAt.get(id) ?? 0) < STATION_WINDOW_MS) continue;
      const st = cache.get(id);
      if (st?.exists) emitStation(st, otherManagers);
      else pendingStation.delete(id);
    }
    if (stationEmittedAt.size > 2 * cache.size + 1000) for (const [id, at] of stationEmittedAt) if (now - at >= STATION_WINDOW_MS) stationEmittedAt.delete(id);
  };

  // Meter events: at most one per second per connector.
  const lastMeterAt = new Map<string, number>();
  const pendingMeter = new Map<string, MeterEvent>();
  const emitMeter = (event: MeterEvent) => {
    const key = `${event.stationId}/${event.evseId}/${event.connectorId}`;
    const now = Date.now();
    if (now - (lastMeterAt.get(key) ?? 0) >= 1000) {
      lastMeterAt.set(key, now);
      pendingMeter.delete(key);
      emit("meter", event);
    } else pendingMeter.set(key, event);
  };
  const meterTimer = setInterval(() => {
    flushLiveStations();
    const now = Date.now();
    for (const [key, event] of pendingMeter) {
      if (now - (lastMeterAt.get(key) ?? 0) < 1000) continue;
      pendingMeter.delete(key);
      lastMeterAt.set(key, now);
      emit("meter", event);
    }
  }, 100);
  meterTimer.unref();

  /** Counts and logs (throttled) a message that broke its contract; nothing else happens with it. */
  const dropBad = (kind: BadPayloadKind, reason: "json" | "schema" | "topic", topic: string, detail = "") => {
    metrics.badPayloads.inc({ kind, reason });
    if (shouldLog(`bad:${kind}:${topic}`)) log.warn({ topic, kind, reason, detail: detail.slice(0, 300) }, "MQTT message dropped: it breaks contracts/csms");
  };

  /**
   * Another manager's change (`ZManagerFeedMessage`): into our feed, and into our cache so
   * our next view is current. Anything that fails the contract is dropped before it can
   * reach either, so a malformed or forged event never changes a view or a KPI.
   */
  const onForeignEvent = (topic: string, payload: Buffer) => {
    const parsed = parsePayload(ZManagerFeedMessage, payload);
    if (!parsed.ok) return dropBad("feed", parsed.reason, topic, parsed.detail);
    otherManagers = true;
    const msg = parsed.data;
    feed.publish(msg.t, msg.d);
    metrics.feedEvents.inc({ type: msg.t, origin: "foreign" });
    if (msg.t === "station") {
      const v = msg.d;
      const st = cache.get(v.id);
      if (!st) return;
      const activeIds = [...st.txs.values()].filter((t) => t.active).map((t) => t.id).sort();
      if (activeIds.join(",") !== (v.activeTransactionIds ?? []).join(",")) {
        cache.delete(v.id); // reload on next use rather than guess
        return;
      }
      st.exists = true;
      if (v.protocol && isOcppVersion(v.protocol)) st.protocol = v.protocol;
      Object.assign(st, { vendor: v.vendor, model: v.model, firmwareVersion: v.firmwareVersion, serialNumber: v.serialNumber, heartbeatIntervalSec: v.heartbeatIntervalSec });
      st.bootedAt = v.bootedAt ? new Date(v.bootedAt) : null;
      if (v.lastSeenAt && (!st.lastSeenAt || new Date(v.lastSeenAt) > st.lastSeenAt)) st.lastSeenAt = new Date(v.lastSeenAt);
      st.connectors = new Map(
        (v.connectors ?? []).map((c) => [connectorKey(c.evseId, c.connectorId), { ...c, errorCode: c.errorCode ?? null, updatedAt: c.updatedAt ? new Date(c.updatedAt) : new Date() }]),
      );
      st.emittedOnline = v.online;
    } else if (msg.t === "transaction") {
      const v = msg.d as TransactionView;
      const st = cache.get(v.stationId);
      if (!st) return;
      const old = st.txs.get(v.id);
      const wire = old?.transactionId ?? (v.id.startsWith(`${v.stationId}:`) ? v.id.slice(v.stationId.length + 1) : v.id);
      st.txs.set(v.id, {
        ...v,
        transactionId: wire,
        startedAt: new Date(v.startedAt),
        stoppedAt: v.stoppedAt ? new Date(v.stoppedAt) : null,
        powerW: v.active ? (old?.powerW ?? null) : null,
        socPct: old?.socPct ?? null,
      });
    } else {
      const v = msg.d as MeterEvent;
      const t = v.transactionId ? cache.get(v.stationId)?.txs.get(v.transactionId) : undefined;
      if (t?.active) {
        if (v.powerW !== null) t.powerW = v.powerW;
        if (v.socPct !== null) t.socPct = v.socPct;
        if (v.energyWh !== null && t.meterStartWh !== null) t.energyWh = Math.max(0, v.energyWh - t.meterStartWh);
      }
    }
  };

  // ---------- station CALLs ----------

  const ensureRow = async (st: StationState, version: OcppVersion) => {
    if (st.exists && st.protocol === version) return;
    await writes.room();
    writes.station({ id: st.id, protocol: version, heartbeatIntervalSec, lastSeenAt: st.lastSeenAt ?? new Date() });
    if (!st.exists) st.registeredAt = new Date();
    st.exists = true;
    st.protocol = version;
  };

  type TokenStatus = "Accepted" | "Blocked" | "Expired" | "Invalid";
  /** Tokens change rarely and are asked for on every Authorize / start: kept 10 s (and dropped when the API changes one). */
  const tokenCache = new Map<string, { token: { status: string; expiresAt: Date | null } | null; at: number }>();
  /** Set once every token was loaded: alone, an idTag not in the cache is an unknown one. */
  let tokensComplete = false;
  /** Tokens the API changed since they were cached: read again. */
  const changedTokens = new Set<string>();
  const findToken = async (idTag: string) => {
    const hit = tokenCache.get(idTag);
    if (hit && (tokensComplete && !otherManagers ? true : Date.now() - hit.at < 10_000)) return hit.token;
    if (!hit && tokensComplete && !otherManagers && !changedTokens.has(idTag)) return null;
    changedTokens.delete(idTag);
    const token = await db.csmsToken.findUnique({ where: { idTag }, select: { status: true, expiresAt: true } });
    tokenCache.set(idTag, { token, at: Date.now() });
    if (tokenCache.size > 50_000) tokenCache.delete(tokenCache.keys().next().value!);
    return token;
  };
  const authorize = async (idTag: unknown): Promise<TokenStatus> => {
    if (typeof idTag !== "string" || !idTag) return "Invalid";
    const token = await findToken(idTag);
    if (!token) return opts.acceptUnknownTokens ? "Accepted" : "Invalid";
    if (token.status === "Accepted" && token.expiresAt && token.expiresAt.getTime() < Date.now()) return "Expired";
    return token.status as TokenStatus;
  };

  const findTx = async (st: StationState, wireId: string, { starting = false } = {}) => {
    for (const t of st.txs.values()) if (t.transactionId === wireId) return t;
    // The cache holds every open and today's transaction: a new one being started is not in the database.
    if (starting && warmed && !otherManagers) return undefined;
    const row = await db.csmsTransaction.findUnique({ where: { stationId_transactionId: { stationId: st.id, transactionId: wireId } } });
    if (!row) return undefined;
    const t = txFromRow(row);
    st.txs.set(t.id, t);
    return t;
  };
  const activeTxOn = (st: StationState, evseId: number) => [...st.txs.values()].find((t) => t.active && t.evseId === evseId);

  /** Applies meter samples: batched rows, the transaction's running values, a coalesced meter event. */
  const applySamples = (st: StationState, evseId: number, connectorId: number, tx: TxState | undefined, list: Sample[]) => {
    if (!list.length) return;
    for (const s of list) {
      samples.push({ stationId: st.id, transactionId: tx?.id ?? null, evseId, connectorId, at: s.at, powerW: s.powerW, energyWh: s.energyWh, socPct: s.socPct });
      if (tx?.active) {
        if (s.energyWh !== null) {
          if (tx.meterStartWh === null) tx.meterStartWh = s.energyWh;
          tx.energyWh = Math.max(0, s.energyWh - tx.meterStartWh);
        }
        if (s.powerW !== null) tx.powerW = s.powerW;
        if (s.socPct !== null) tx.socPct = s.socPct;
        dirtyTx.set(tx.id, tx);
      }
    }
    const last = list[list.length - 1];
    const lastPower = [...list].reverse().find((s) => s.powerW !== null)?.powerW;
    const connector = st.connectors.get(connectorKey(evseId, connectorId)) ?? (st.protocol === "ocpp1.6" ? st.connectors.get(connectorKey(evseId, evseId)) : undefined);
    if (connector && lastPower !== undefined) connector.powerW = lastPower;
    emitMeter({
      stationId: st.id,
      evseId,
      connectorId,
      transactionId: tx?.id ?? null,
      at: last.at.toISOString(),
      powerW: last.powerW,
      energyWh: last.energyWh,
      socPct: last.socPct,
      sessionEnergyWh: tx && tx.meterStartWh !== null ? tx.energyWh : null,
    });
  };

  /**
   * A 1.6 transaction: the CSMS assigns the id from the sequence. An id already taken (a
   * 2.0.1 station may have used that number as its own) is skipped, never an error.
   */
  const createTx16 = async (data: Pick<TxState, "stationId" | "evseId" | "connectorId" | "idTag" | "startedAt" | "meterStartWh">): Promise<TxState> => {
    const seq = await nextSeq();
    const tx: TxState = { ...data, id: String(seq), seq, transactionId: String(seq), stoppedAt: null, meterStopWh: null, energyWh: 0, powerW: null, socPct: null, stopReason: null, active: true };
    await writes.room();
    txWrite(tx);
    return tx;
  };
  /** Transaction numbers come from the database sequence in blocks, so a StartTransaction rarely waits for it. */
  const seqBlock: number[] = [];
  let seqRefill: Promise<void> | undefined;
  const nextSeq = async (): Promise<number> => {
    while (!seqBlock.length) {
      seqRefill ??= db
        .$queryRawUnsafe<{ seq: number }[]>(`SELECT nextval(pg_get_serial_sequence('"csms"."transaction"', 'seq'))::int AS seq FROM generate_series(1, 50)`)
        .then((rows) => void seqBlock.push(...rows.map((r) => Number(r.seq)).sort((a, b) => a - b)))
        .finally(() => (seqRefill = undefined));
      await seqRefill;
    }
    return seqBlock.shift()!;
  };

  const upsertConfig = async (stationId: string, rows: { key?: string; component?: string; variable?: string; value: string | null; readonly: boolean | null }[]) => {
    if (!rows.length) return;
    await db.$executeRawUnsafe(
      `INSERT INTO "csms"."station_config" ("stationId", "key", "component", "variable", "value", "readonly", "updatedAt")
       SELECT $1, k, c, v, val, ro, now() FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[]) AS x(k, c, v, val, ro)
       ON CONFLICT ("stationId", "key", "component", "variable")
       DO UPDATE SET "value" = EXCLUDED."value", "readonly" = COALESCE(EXCLUDED."readonly", "station_config"."readonly"), "updatedAt" = now()`,
      stationId,
      rows.map((r) => r.key ?? ""),
      rows.map((r) => r.component ?? ""),
      rows.map((r) => r.variable ?? ""),
      rows.map((r) => r.value),
      rows.map((r) => r.readonly),
    );
  };

  const setConnector = async (st: StationState, evseId: number, connectorId: number, status: string, errorCode: string | null) => {
    const updatedAt = new Date();
    await writes.room();
    writes.connector({ stationId: st.id, evseId, connectorId, status, errorCode, updatedAt });
    const key = connectorKey(evseId, connectorId);
    const prev = st.connectors.get(key);
    st.connectors.set(key, { evseId, connectorId, status, errorCode, updatedAt });
    return !prev || prev.status !== status || prev.errorCode !== errorCode;
  };

  const maxConnectorId = opts.maxConnectorId ?? 32;
  /** Refuses a connector / EVSE id the station cannot have (beyond what it declared, or absurd). */
  const checkConnector = (st: StationState, field: string, id: unknown) => {
    const max = st.declaredConnectors ?? maxConnectorId;
    if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= max) return id;
    throw new CallRefused("PropertyConstraintViolation", `${field}: ${String(id)} is beyond this station's connectors (at most ${max})`, "connector");
  };
  /** Closes a still-open transaction that a new one on the same connector replaced (its stop never came). */
  const closeSuperseded = async (st: StationState, newTx: TxState, reason: string) => {
    for (const t of st.txs.values()) {
      if (t === newTx || !t.active || t.evseId !== newTx.evseId || (st.protocol !== "ocpp1.6" && t.connectorId !== newTx.connectorId)) continue;
      await closeTx(t, reason, new Date());
    }
  };
  const closeTx = async (t: TxState, reason: string, at: Date) => {
    dirtyTx.delete(t.id);
    Object.assign(t, { active: false, stoppedAt: at, stopReason: reason, powerW: null });
    txWrite(t);
    emit("transaction", txView(t));
  };

  type Req = Record<string, unknown>;
  const handleCall = async (version: OcppVersion, st: StationState, action: string, r: Req): Promise<Req> => {
    const v16 = version === "ocpp1.6";
    const now = new Date();
    switch (action) {
      case "BootNotification": {
        const info = bootInfo(version, r);
        const heartbeatIntervalSec = (st.exists ? await configuredHeartbeat(st.id) : undefined) ?? defaultHeartbeatSec;
        writes.station({ id: st.id, protocol: version, boot: { ...info, bootedAt: now, heartbeatIntervalSec }, heartbeatIntervalSec, lastSeenAt: now });
        if (!st.exists) st.registeredAt = now;
        Object.assign(st, info, { exists: true, protocol: version, bootedAt: now, heartbeatIntervalSec });
        // A 1.6 station that boots has ended whatever it was charging; a StopTransaction it
        // still had queued arrives later and corrects the figures. 2.0.1 reports on its own
        // (TransactionEvent Ended, or GetTransactionStatus, see after the answer).
        if (v16) for (const t of st.txs.values()) if (t.active) await closeTx(t, "Reboot", now);
        emitStation(st);
        return { status: "Accepted", currentTime: now.toISOString(), interval: heartbeatIntervalSec };
      }
      case "Heartbeat":
        return { currentTime: now.toISOString() };
      case "StatusNotification": {
        await ensureRow(st, version);
        let changed: boolean;
        if (v16) {
          const connectorId = checkConnector(st, "connectorId", r.connectorId);
          // Connector 0 is the station as a whole; OCPP 1.6 connector N is stored as EVSE N.
          if (connectorId <= 0) return {};
          const errorCode = typeof r.errorCode === "string" && r.errorCode !== "NoError" ? r.errorCode : null;
          changed = await setConnector(st, connectorId, connectorId, String(r.status), errorCode);
        } else {
          changed = await setConnector(st, checkConnector(st, "evseId", r.evseId), checkConnector(st, "connectorId", r.connectorId), String(r.connectorStatus), null);
        }
        if (changed) emitStation(st);
        return {};
      }
      case "Authorize": {
        if (v16) return { idTagInfo: { status: await authorize(r.idTag) } };
        const token = r.idToken as { idToken?: unknown; type?: unknown } | undefined;
        if (token?.type === "NoAuthorization") return { idTokenInfo: { status: "Accepted" } };
        return { idTokenInfo: { status: await authorize(token?.idToken) } };
      }
      case "StartTransaction": {
        const connectorId = checkConnector(st, "connectorId", r.connectorId);
        if (connectorId === 0) throw new CallRefused("PropertyConstraintViolation", "connectorId: transactions run on connectors 1 and up", "connector");
        await ensureRow(st, version);
        const status = await authorize(r.idTag);
        const tx = await createTx16({
          stationId: st.id,
          evseId: connectorId,
          connectorId,
          idTag: typeof r.idTag === "string" ? r.idTag : null,
          startedAt: parseTime(r.timestamp, now),
          meterStartWh: typeof r.meterStart === "number" ? r.meterStart : null,
        });
        st.txs.set(tx.id, tx);
        await closeSuperseded(st, tx, "NewTransactionOnConnector");
        emit("transaction", txView(tx));
        emitStation(st);
        return { transactionId: Number(tx.transactionId), idTagInfo: { status } };
      }
      case "StopTransaction": {
        await ensureRow(st, version);
        const tx = await findTx(st, String(r.transactionId));
        if (tx) {
          const meterStop = typeof r.meterStop === "number" ? r.meterStop : null;
          applySamples(st, tx.evseId, tx.connectorId, tx, parseMeterValues(r.transactionData));
          dirtyTx.delete(tx.id);
          Object.assign(tx, {
            active: false,
            stoppedAt: parseTime(r.timestamp, now),
            meterStopWh: meterStop,
            energyWh: meterStop !== null && tx.meterStartWh !== null ? Math.max(0, meterStop - tx.meterStartWh) : tx.energyWh,
            stopReason: typeof r.reason === "string" ? r.reason : "Local",
            powerW: null,
          });
          txWrite(tx);
          emit("transaction", txView(tx));
          emitStation(st);
        } else if (shouldLog(`unknown-tx:${st.id}`)) log.warn({ stationId: st.id, transactionId: r.transactionId }, "StopTransaction for an unknown transaction");
        return typeof r.idTag === "string" ? { idTagInfo: { status: await authorize(r.idTag) } } : {};
      }
      case "TransactionEvent": {
        await ensureRow(st, version);
        const info = (r.transactionInfo ?? {}) as Req;
        const wireId = String(info.transactionId);
        const evse = r.evse as { id?: number; connectorId?: number } | undefined;
        if (evse?.id !== undefined) checkConnector(st, "evse.id", evse.id);
        if (evse?.connectorId !== undefined) checkConnector(st, "evse.connectorId", evse.connectorId);
        const eventType = String(r.eventType);
        const list = parseMeterValues(r.meterValue);
        const idToken = r.idToken as { idToken?: unknown; type?: unknown } | undefined;
        let tx = await findTx(st, wireId, { starting: eventType === "Started" });
        let changed = false;
        if (!tx) {
          const firstEnergy = list.find((s) => s.energyWh !== null)?.energyWh ?? null;
          // The station's own id, scoped to the station: no station can take another's.
          tx = {
            id: `${st.id}:${wireId}`,
            seq: null,
            stationId: st.id,
            transactionId: wireId,
            evseId: evse?.id ?? 0,
            connectorId: evse?.connectorId ?? 1,
            idTag: typeof idToken?.idToken === "string" ? idToken.idToken : null,
            startedAt: parseTime(r.timestamp, now),
            stoppedAt: null,
            meterStartWh: firstEnergy,
            meterStopWh: null,
            energyWh: 0,
            powerW: null,
            socPct: null,
            stopReason: null,
            active: true,
          };
          await writes.room();
          txWrite(tx);
          st.txs.set(tx.id, tx);
          if (tx.active) await closeSuperseded(st, tx, "NewTransactionOnConnector");
          changed = true;
        } else if (evse?.id !== undefined && tx.evseId !== evse.id) {
          tx.evseId = evse.id;
          tx.connectorId = evse.connectorId ?? tx.connectorId;
          txWrite(tx);
        }
        if (!tx.idTag && typeof idToken?.idToken === "string") {
          tx.idTag = idToken.idToken;
          txWrite(tx);
          changed = true;
        }
        applySamples(st, tx.evseId, tx.connectorId, tx, list);
        if (eventType === "Ended" && tx.active) {
          const lastEnergy = [...list].reverse().find((s) => s.energyWh !== null)?.energyWh ?? null;
          dirtyTx.delete(tx.id);
          Object.assign(tx, {
            active: false,
            stoppedAt: parseTime(r.timestamp, now),
            meterStopWh: lastEnergy,
            stopReason: typeof info.stoppedReason === "string" ? info.stoppedReason : "Local",
            powerW: null,
          });
          if (lastEnergy !== null && tx.meterStartWh !== null) tx.energyWh = Math.max(0, lastEnergy - tx.meterStartWh);
          txWrite(tx);
          changed = true;
        }
        if (changed) {
          emit("transaction", txView(tx));
          emitStation(st);
        }
        if (idToken && typeof idToken.idToken === "string") {
          return { idTokenInfo: { status: idToken.type === "NoAuthorization" ? "Accepted" : await authorize(idToken.idToken) } };
        }
        return {};
      }
      case "MeterValues": {
        await ensureRow(st, version);
        const list = parseMeterValues(r.meterValue);
        if (v16) {
          const connectorId = checkConnector(st, "connectorId", r.connectorId);
          const tx = r.transactionId !== undefined ? await findTx(st, String(r.transactionId)) : activeTxOn(st, connectorId);
          applySamples(st, tx?.evseId ?? connectorId, tx?.connectorId ?? connectorId, tx, list);
        } else {
          const evseId = checkConnector(st, "evseId", r.evseId);
          const tx = activeTxOn(st, evseId);
          applySamples(st, evseId, tx?.connectorId ?? (evseId === 0 ? 0 : 1), tx, list);
        }
        return {};
      }
      case "DataTransfer":
        return { status: r.vendorId === "Switchyard" ? "Accepted" : "UnknownVendorId" };
      case "NotifyReport": {
        const data = Array.isArray(r.reportData) ? (r.reportData as { component: Component201; variable: Variable201; variableAttribute?: { type?: string; value?: string; mutability?: string }[] }[]) : [];
        await upsertConfig(
          st.id,
          data.map((d) => {
            const attr = d.variableAttribute?.find((a) => !a.type || a.type === "Actual") ?? d.variableAttribute?.[0];
            return { component: formatComponent(d.component), variable: formatVariable(d.variable), value: attr?.value ?? null, readonly: attr?.mutability ? attr.mutability === "ReadOnly" : null };
          }),
        );
        return {};
      }
      case "FirmwareStatusNotification":
      case "DiagnosticsStatusNotification":
      case "SecurityEventNotification":
      case "NotifyEvent":
      case "LogStatusNotification":
      case "SignedFirmwareStatusNotification":
      case "PublishFirmwareStatusNotification":
      case "NotifyMonitoringReport":
      case "NotifyChargingLimit":
      case "ClearedChargingLimit":
      case "NotifyCustomerInformation":
      case "NotifyDisplayMessages":
      case "NotifyEVChargingSchedule":
      case "ReportChargingProfiles":
      case "ReservationStatusUpdate":
        return {};
      case "NotifyEVChargingNeeds":
        return { status: "Rejected" };
      case "SignCertificate":
        return { status: "Rejected" };
      default:
        // The gateway passes only actions OCPP defines for this version: recognised, just not supported here.
        if ((STATION_ACTIONS[version] as readonly string[]).includes(action)) throw new CallRefused("NotSupported", `${action} is not supported by this CSMS`, "unsupported");
        throw new CallRefused("NotImplemented", `${action} is not an OCPP ${version} action`, "unknown_action");
    }
  };

  /** Side effects of a manager CALL's answer (any manager may receive it: action and request are merged in). */
  const applyResult = async (st: StationState, env: ResultEnvelope) => {
    const stationId = st.id;
    const r = env.response;
    const req = env.request ?? {};
    switch (env.action) {
      case "GetConfiguration": {
        const keys = Array.isArray(r.configurationKey) ? (r.configurationKey as { key: string; readonly?: boolean; value?: string }[]) : [];
        await upsertConfig(stationId, keys.map((k) => ({ key: k.key, value: k.value ?? null, readonly: typeof k.readonly === "boolean" ? k.readonly : null })));
        const declared = Number(keys.find((k) => k.key === "NumberOfConnectors")?.value);
        if (Number.isInteger(declared) && declared > 0 && declared <= maxConnectorId) st.declaredConnectors = declared;
        return;
      }
      case "ChangeConfiguration":
        if (r.status === "Accepted" || r.status === "RebootRequired") {
          await upsertConfig(stationId, [{ key: String(req.key), value: String(req.value), readonly: false }]);
          if (req.key === "HeartbeatInterval") await heartbeatChanged(st, req.value);
        }
        return;
      case "GetVariables": {
        const results = Array.isArray(r.getVariableResult)
          ? (r.getVariableResult as { attributeStatus: string; component: Component201; variable: Variable201; attributeValue?: string }[])
          : [];
        await upsertConfig(
          stationId,
          results
            .filter((x) => x.attributeStatus === "Accepted")
            .map((x) => ({ component: formatComponent(x.component), variable: formatVariable(x.variable), value: x.attributeValue ?? null, readonly: null })),
        );
        return;
      }
      case "SetVariables": {
        const results = Array.isArray(r.setVariableResult) ? (r.setVariableResult as { attributeStatus: string; component: Component201; variable: Variable201 }[]) : [];
        const sent = Array.isArray(req.setVariableData) ? (req.setVariableData as { component: Component201; variable: Variable201; attributeValue: string }[]) : [];
        await upsertConfig(
          stationId,
          results.flatMap((x) => {
            if (x.attributeStatus !== "Accepted" && x.attributeStatus !== "RebootRequired") return [];
            const c = formatComponent(x.component);
            const v = formatVariable(x.variable);
            const s = sent.find((d) => formatComponent(d.component) === c && formatVariable(d.variable) === v);
            return s ? [{ component: c, variable: v, value: s.attributeValue, readonly: false }] : [];
          }),
        );
        const hb = results.find((x) => x.attributeStatus === "Accepted" && x.component?.name === "OCPPCommCtrlr" && x.variable?.name === "HeartbeatInterval");
        if (hb) await heartbeatChanged(st, sent.find((d) => d.component?.name === "OCPPCommCtrlr" && d.variable?.name === "HeartbeatInterval")?.attributeValue);
        return;
      }
    }
  };

  /** A HeartbeatInterval the station accepted: online checks and the view use it from now on (and the next boot answers it). */
  const heartbeatChanged = async (st: StationState, value: unknown) => {
    const sec = Number(value);
    if (!Number.isInteger(sec) || sec <= 0 || sec > 86_400 || sec === st.heartbeatIntervalSec) return;
    st.heartbeatIntervalSec = sec;
    configuredHeartbeats.set(st.id, sec);
    await db.csmsStation.update({ where: { id: st.id }, data: { heartbeatIntervalSec: sec } }).catch(() => {});
    emitStation(st);
  };
  /** The interval a station was configured with (ChangeConfiguration / SetVariables accepted), if any. */
  const configuredHeartbeat = async (stationId: string) => {
    if (heartbeatsLoaded) return configuredHeartbeats.get(stationId);
    const row = await db.csmsStationConfig.findFirst({
      where: { stationId, OR: [{ key: "HeartbeatInterval" }, { component: "OCPPCommCtrlr", variable: "HeartbeatInterval" }], readonly: false },
      orderBy: { updatedAt: "desc" },
    });
    const sec = Number(row?.value);
    return Number.isInteger(sec) && sec > 0 && sec <= 86_400 ? sec : undefined;
  };

  // ---------- commands (manager CALLs) ----------

  type Pending = { resolve: (env: ResultEnvelope | ErrorEnvelope) => void };
  const pending = new Map<string, Pending>();
  const commandQueues = new Map<string, Promise<unknown>>();

  const resolvePending = (env: ResultEnvelope | ErrorEnvelope) => {
    const p = pending.get(env.id);
    if (!p) return false;
    pending.delete(env.id);
    p.resolve(env);
    return true;
  };

  const stationOnline = async (id: string) => {
    const st = await getStation(id);
    if (isOnline(id, st.lastSeenAt, st.heartbeatIntervalSec)) return true;
    // Another manager may have seen it more recently than this one.
    await flushStateSerial();
    const row = await db.csmsStation.findUnique({ where: { id }, select: { lastSeenAt: true } });
    if (row?.lastSeenAt && (!st.lastSeenAt || row.lastSeenAt > st.lastSeenAt)) st.lastSeenAt = row.lastSeenAt;
    return isOnline(id, st.lastSeenAt, st.heartbeatIntervalSec);
  };

  /** Publishes a manager CALL and waits for its answer (undefined: none within `timeoutMs`). */
  const callStation = async (version: OcppVersion, stationId: string, action: string, request: Record<string, unknown>, timeoutMs: number) => {
    const id = `${managerId}:${randomBytes(12).toString("hex")}`;
    const answer = new Promise<ResultEnvelope | ErrorEnvelope | undefined>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      pending.set(id, {
        resolve: (env) => {
          clearTimeout(timer);
          resolve(env);
        },
      });
    });
    const call = { type: 2 as const, action, id, request };
    logFrame(stationId, "out", call);
    await publishRaw(topics.out(version, stationId), JSON.stringify(call));
    return answer;
  };

  /**
   * After a 2.0.1 station boots, each transaction the CSMS still has open is checked with
   * GetTransactionStatus: one the station no longer knows (not ongoing, nothing queued for
   * it) is closed with the reason `EndedWhileOffline`; one with queued messages is left for
   * them to end. 1.6 has no such call: its boot closes them (`Reboot`).
   */
  const checkOpenTransactions = async (stationId: string) => {
    const st = cache.get(stationId);
    if (!st || st.protocol !== "ocpp2.0.1") return;
    for (const t of [...st.txs.values()].filter((x) => x.active)) {
      const env = await callStation("ocpp2.0.1", stationId, "GetTransactionStatus", { transactionId: t.transactionId }, commandTimeoutMs);
      if (env?.type !== 3) continue;
      const r = env.response as { ongoingIndicator?: unknown; messagesInQueue?: unknown };
      if (r.ongoingIndicator === false && r.messagesInQueue === false && t.active) {
        await serial(stationId, async () => {
          if (!t.active) return;
          await closeTx(t, "EndedWhileOffline", new Date());
          emitStation(st);
        });
      }
    }
  };

  /** undefined → unknown station (404). Throws CommandInputError on bad params (400). */
  const runCommand = async (stationId: string, body: CommandBody, accepted: () => void): Promise<CommandResult | undefined> => {
    const st = await getStation(stationId);
    if (!st.exists) {
      // The cache may predate a registration made through another manager.
      const st2 = await loadStation(stationId);
      if (!st2.exists) return undefined;
    }
    const station = cache.get(stationId) ?? st;
    const version = station.protocol ?? presence.get(stationId)?.protocol;
    const txIds = new Map([...station.txs.values()].map((t) => [t.id, t.transactionId]));
    let mapped: ReturnType<typeof mapCommand>;
    if (!version) {
      // Never booted and not connected: validate against 2.0.1's richer catalogue, then report offline.
      mapped = mapCommand("ocpp2.0.1", body.action, body.params);
      accepted();
      metrics.commands.inc({ action: body.action, status: "offline" });
      return { status: "offline", ocppAction: mapped.action, request: mapped.request, sent: false, errorDescription: OFFLINE_DESCRIPTION };
    }
    const lookupWire = async (apiId: string) => {
      if (txIds.has(apiId)) return;
      const row = await db.csmsTransaction.findUnique({ where: { id: apiId } });
      if (row && row.stationId === stationId) txIds.set(apiId, row.transactionId);
    };
    const p = body.params as Record<string, unknown> | undefined;
    if (p && (typeof p.transactionId === "string" || typeof p.transactionId === "number")) await lookupWire(String(p.transactionId));
    // A 2.0.1 API id is `<stationId>:<the station's id>`; the station knows only its own.
    mapped = mapCommand(version, body.action, body.params, (apiId) => txIds.get(apiId) ?? (apiId.startsWith(`${stationId}:`) ? apiId.slice(stationId.length + 1) : apiId));
    accepted();
    const base = { ocppAction: mapped.action, request: mapped.request };
    const finish = (result: CommandResult) => {
      metrics.commands.inc({ action: body.action, status: result.status });
      return result;
    };
    const offline = { status: "offline" as const, ...base, sent: false, errorDescription: OFFLINE_DESCRIPTION };
    if (!(await stationOnline(stationId))) return finish(offline);

    const run = async (): Promise<CommandResult> => {
      if (!mqtt?.connected) return { status: "failed", ...base, sent: false, errorCode: "ManagerUnavailable", errorDescription: "the manager is not connected to the MQTT broker" };
      if (!(await stationOnline(stationId))) return offline;
      const timeoutMs = body.timeoutMs ?? commandTimeoutMs;
      const env = await callStation(version, stationId, mapped.action, mapped.request, timeoutMs);
      if (!env) return { status: "timed_out", ...base, sent: true, errorDescription: `the station did not answer within ${timeoutMs} ms` };
      if (env.type === 4) {
        const error = { errorCode: env.error_code, errorDescription: env.error_description };
        // The gateway held no socket for it: nothing reached the station.
        if (env.error_code === GATEWAY_ERROR.stationOffline) return { status: "offline", ...base, sent: false, ...error };
        // The gateway sent it and the station stayed silent.
        if (env.error_code === GATEWAY_ERROR.timeout) return { status: "timed_out", ...base, sent: true, ...error };
        return { status: "failed", ...base, sent: true, ...error };
      }
      return { status: outcomeOf(mapped.action, env.response), ...base, sent: true, response: env.response, ...rejectionReason(mapped.action, env.response) };
    };
    // One manager call in flight per station from this manager.
    const previous = commandQueues.get(stationId) ?? Promise.resolve();
    const mine = previous.then(run, run);
    commandQueues.set(stationId, mine);
    void mine.finally(() => {
      if (commandQueues.get(stationId) === mine) commandQueues.delete(stationId);
    });
    return finish(await mine);
  };

  const commandRecords = createCommandRecords({
    db,
    log,
    retentionHours: opts.commandResultHours ?? 24,
    onBatchError: () => metrics.batchErrors.inc({ table: "command_result" }),
  });
  /** undefined → unknown station (404). Throws CommandInputError (400) or CommandConflictError (409). */
  const sendCommand = (stationId: string, body: CommandBody) =>
    commandRecords.submit(stationId, body, (accepted) => runCommand(stationId, body, accepted), { timeoutMs: body.timeoutMs ?? commandTimeoutMs });

  // ---------- MQTT ----------

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

  const touch = async (st: StationState, version: OcppVersion) => {
    const now = new Date();
    const wasOnline = st.emittedOnline ?? isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec);
    st.lastSeenAt = now;
    dirtySeen.set(st.id, now);
    await ensureRow(st, version);
    if (!wasOnline) emitStation(st);
  };

  const onStationMessage = (version: OcppVersion, stationId: string, env: Envelope) =>
    serial(stationId, async () => {
      const st = await getStation(stationId);
      await touch(st, version);
      if (env.type === 2) {
        const started = performance.now();
        let answer: ResultEnvelope | ErrorEnvelope;
        try {
          const unstorable = unstorableField(env.request);
          if (unstorable) throw new CallRefused("PropertyConstraintViolation", `${unstorable}: contains a NUL character (\\u0000), which cannot be stored`, "unstorable");
          answer = { type: 3, id: env.id, response: await handleCall(version, st, env.action, env.request) };
          metrics.calls.inc({ action: actionLabel(env.action), outcome: "result" });
        } catch (error) {
          if (error instanceof CallRefused) {
            metrics.refusedCalls.inc({ reason: error.reason });
            if (shouldLog(`refused:${stationId}:${error.reason}`)) log.warn({ stationId, action: env.action, code: error.code, err: error.message }, "station call refused");
            answer = { type: 4, id: env.id, error_code: error.code, error_description: error.message };
          } else {
            if (shouldLog(`call-fail:${stationId}`)) log.warn({ stationId, action: env.action, err: (error as Error).message }, "station call failed");
            answer = { type: 4, id: env.id, error_code: "InternalError", error_description: "the CSMS could not handle the call" };
          }
          metrics.calls.inc({ action: actionLabel(env.action), outcome: "error" });
        }
        logFrame(stationId, "out", answer);
        const text = JSON.stringify(answer);
        rememberAnswer(stationId, env.id, text);
        await publishRaw(topics.out(version, stationId), text);
        metrics.callDuration.observe({ action: actionLabel(env.action) }, (performance.now() - started) / 1000);
        liveStation(st);
        if (env.action === "BootNotification" && version === "ocpp2.0.1" && answer.type === 3 && [...st.txs.values()].some((t) => t.active)) {
          // After the station has settled (its status sync comes first).
          setTimeout(() => void checkOpenTransactions(stationId).catch((error: Error) => log.warn({ stationId, err: error.message }, "checking open transactions failed")), 2000).unref();
        }
        return;
      }
      // The answer to a manager CALL.
      if (env.type === 3 && !unstorableField(env.response)) await applyResult(st, env).catch((error: Error) => log.warn({ stationId, err: error.message }, "storing a call result failed"));
      liveStation(st);
      const owner = env.id.includes(":") ? env.id.slice(0, env.id.indexOf(":")) : undefined;
      if (owner === managerId) resolvePending(env);
      else if (owner && /^[A-Za-z0-9_-]{1,8}$/.test(owner)) {
        metrics.forwarded.inc();
        await publishRaw(replyTopic(owner), JSON.stringify(env));
      }
    });

  const onPresence = (topic: string, stationId: string, payload: Buffer, retained: boolean) => {
    // An empty retained payload is how a presence is cleared, not a message.
    if (payload.length === 0) return;
    if (!isValidStationId(stationId)) return dropBad("presence", "topic", topic);
    const parsed = parsePayload(stationPresenceSchema, payload);
    if (!parsed.ok) return dropBad("presence", parsed.reason, topic, parsed.detail);
    let p = parsed.data as StationPresence;
    const prev = presence.get(stationId);
    if (prev && prev.at > p.at) return;
    // A gateway that died after this announcement took the socket with it.
    const died = deadGateways.get(p.gateway);
    if (p.online && died !== undefined && died >= p.at) p = { ...p, online: false, reason: "gateway offline" };
    presence.set(stationId, p);
    // A retained presence seen for the first time is history, not a change worth an event.
    if (!prev && retained) return;
    presenceChanged(stationId, p);
  };

  /** Retained gateway liveness: when a gateway dies (its will fires), its stations are offline. */
  const deadGateways = new Map<string, number>();
  const onGatewayStatus = (topic: string, payload: Buffer) => {
    if (payload.length === 0) return; // empty payloads clear retained state
    const parsed = parsePayload(gatewayStatusSchema, payload);
    if (!parsed.ok) return dropBad("gateway", parsed.reason, topic, parsed.detail);
    const status = parsed.data;
    // The topic names the gateway; a status about another one is forged or misrouted.
    if (topic !== topics.gateway(status.gateway)) return dropBad("gateway", "topic", topic);
    const at = status.at;
    if (status.online) {
      deadGateways.delete(status.gateway);
      return;
    }
    deadGateways.set(status.gateway, at);
    for (const [id, p] of presence) {
      if (p.gateway !== status.gateway || !p.online || p.at > at) continue;
      const off = { ...p, online: false, at, reason: "gateway offline" };
      presence.set(id, off);
      presenceChanged(id, off);
    }
  };

  const presenceChanged = (stationId: string, p: StationPresence) => {
    void serial(stationId, async () => {
      const st = await getStation(stationId);
      if (!st.exists) return;
      const before = st.emittedOnline;
      const now = isOnline(stationId, st.lastSeenAt, st.heartbeatIntervalSec);
      if (p.gateway !== st.gateway) {
        st.gateway = p.gateway;
        await db.csmsStation.update({ where: { id: stationId }, data: { gateway: p.gateway } }).catch(() => {});
      }
      // Every manager sees presence, so each appends its own event and none broadcasts it.
      if (before !== now) emitStation(st, false);
    });
  };

  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    metrics.mqttMessages.inc({ direction: "received" });
    if (topic.startsWith(`${prefix}/presence/`)) return onPresence(topic, topic.slice(prefix.length + "/presence/".length), payload, packet.retain);
    if (topic.startsWith(`${prefix}/gateway/`)) return onGatewayStatus(topic, payload);
    if (topic.startsWith(`${prefix}/feed/`)) {
      if (topic !== feedTopic(managerId)) onForeignEvent(topic, payload);
      return;
    }
    if (topic === topics.probe(managerId)) return probeReceived?.();
    const isReply = topic === replyTopic(managerId);
    const where = isReply ? undefined : parseStationTopic(prefix, topic);
    if (!isReply && (!where || where.direction !== "in")) return dropBad("envelope", "topic", topic);
    const parsed = parsePayload(envelopeSchema, payload);
    if (!parsed.ok) return dropBad("envelope", parsed.reason, topic, parsed.detail);
    const env = parsed.data as Envelope;
    if (isReply) {
      if (env.type !== 2) resolvePending(env);
      return;
    }
    if (env.type === 2 && repeatedCall(where!.version, where!.stationId, env.id)) return;
    logFrame(where!.stationId, "in", env);
    void onStationMessage(where!.version, where!.stationId, env);
  };

  /**
   * Station CALLs arrive at least once (QoS 1 redelivery after a restart, the gateway's
   * retry of an unanswered CALL). A repeat of one being handled is dropped (its answer is
   * coming); a repeat of one already answered gets that answer again, not a second handling.
   */
  const recentCalls = new Map<string, { answer?: string }>();
  const repeatedCall = (version: OcppVersion, stationId: string, id: string) => {
    const key = `${stationId}\n${id}`;
    const seen = recentCalls.get(key);
    if (seen) {
      metrics.repeatedCalls.inc();
      if (seen.answer) void publishRaw(topics.out(version, stationId), seen.answer);
      return true;
    }
    recentCalls.set(key, {});
    if (recentCalls.size > 20_000) recentCalls.delete(recentCalls.keys().next().value!);
    return false;
  };
  const rememberAnswer = (stationId: string, id: string, answer: string) => {
    const seen = recentCalls.get(`${stationId}\n${id}`);
    if (seen) seen.answer = answer;
  };

  let probeReceived: (() => void) | undefined;

  /** Shared subscriptions are only trusted after a probe message actually arrives through one. */
  const probeShared = async (client: MqttClient) => {
    const probeTopic = topics.probe(managerId);
    const granted = await client.subscribeAsync(`$share/probe-${managerId}/${probeTopic}`, { qos: 0 });
    if (granted.some((g) => g.qos >= 128)) return false;
    const got = new Promise<boolean>((resolve) => {
      probeReceived = () => resolve(true);
      setTimeout(() => resolve(false), 2000).unref();
    });
    await client.publishAsync(probeTopic, "probe", { qos: 0 });
    const ok = await got;
    probeReceived = undefined;
    await client.unsubscribeAsync(`$share/probe-${managerId}/${probeTopic}`).catch(() => {});
    return ok;
  };

  let mqttVersion: 4 | 5 = 5;
  try {
    const link = await connectManagerMqtt({
      url: opts.mqttUrl,
      clientId: managerId,
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      durable,
      sessionExpirySec: opts.sessionExpirySec ?? 600,
      connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
      log,
    });
    mqtt = link.client;
    mqttVersion = link.version;
  } catch (error) {
    clearInterval(stateTimer);
    clearInterval(retentionTimer);
    clearInterval(meterTimer);
    feed.close();
    throw error;
  }
  mqtt.on("message", onMessage);
  mqtt.on("reconnect", () => log.info({ mqttUrl: opts.mqttUrl }, "manager mqtt reconnecting"));
  mqtt.on("offline", () => log.warn({ mqttUrl: opts.mqttUrl }, "manager mqtt offline"));
  mqtt.on("error", (error) => log.warn({ err: error.message }, "manager mqtt error"));

  shared = await probeShared(mqtt).catch(() => false);
  const inTopic = shared ? `$share/${group}/${topics.inWildcard}` : topics.inWildcard;
  if (!shared) log.warn({ mqttUrl: opts.mqttUrl, mqttVersion }, "broker does not deliver $share subscriptions; using a plain subscription (run one manager only)");
  void warmUp().catch((error: Error) => log.warn({ err: error.message }, "warming the station cache failed"));
  await mqtt.subscribeAsync({ [inTopic]: { qos: 1 }, [topics.presenceWildcard]: { qos: 1 }, [topics.gatewayWildcard]: { qos: 1 }, [replyTopic(managerId)]: { qos: 0 }, [topics.feedWildcard]: { qos: 0 } });

  // ---------- offline sweep ----------

  const sweep = async () => {
    const now = Date.now();
    const candidates = [...cache.values()].filter((st) => st.emittedOnline === true && !isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec, now));
    if (!candidates.length) return;
    await flushStateSerial();
    const rows = await db.csmsStation.findMany({ where: { id: { in: candidates.map((c) => c.id) } }, select: { id: true, lastSeenAt: true } });
    const seen = new Map(rows.map((r) => [r.id, r.lastSeenAt]));
    for (const st of candidates) {
      const dbSeen = seen.get(st.id);
      if (dbSeen && (!st.lastSeenAt || dbSeen > st.lastSeenAt)) st.lastSeenAt = dbSeen;
      if (!isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec)) emitStation(st, false);
    }
  };
  const sweepTimer = setInterval(() => void sweep().catch((error: Error) => log.warn({ err: error.message }, "offline sweep failed")), opts.sweepIntervalMs ?? 5000);
  sweepTimer.unref();
  void retention().catch((error: Error) => log.warn({ err: error.message }, "retention failed"));

  // ---------- HTTP ----------

  const api = createApi({
    db,
    log,
    feed,
    apiToken: opts.apiToken,
    gatewayToken: opts.gatewayToken,
    openRegistration: opts.openRegistration ?? false,
    registry: metrics.registry,
    metricsToken: opts.metricsToken,
    mqttConnected: () => !!mqtt?.connected && !closing,
    flush,
    loadViews,
    countOnline: async (where, online) => {
      await flushStateSerial();
      let n = 0;
      let after: string | undefined;
      for (;;) {
        const rows = await db.csmsStation.findMany({
          where: { AND: [where, after !== undefined ? { id: { gt: after } } : {}] },
          select: { id: true, lastSeenAt: true, heartbeatIntervalSec: true },
          orderBy: { id: "asc" },
          take: 5000,
        });
        const now = Date.now();
        for (const r of rows) {
          const cached = cache.get(r.id);
          const seen = cached?.lastSeenAt && (!r.lastSeenAt || cached.lastSeenAt > r.lastSeenAt) ? cached.lastSeenAt : r.lastSeenAt;
          if (isOnline(r.id, seen, cached?.heartbeatIntervalSec ?? r.heartbeatIntervalSec, now) === online) n++;
        }
        if (rows.length < 5000) return n;
        after = rows[rows.length - 1].id;
      }
    },
    getStation: async (id) => {
      const cached = cache.get(id);
      const st = cached?.exists && fresh(cached) ? cached : (await writes.flush(), await loadStation(id));
      return st.exists ? { view: viewOf(st), registeredAt: st.registeredAt } : undefined;
    },
    sendCommand,
    getCommand: (commandId) => commandRecords.get(commandId),
    onRegistered: (id) => {
      cache.delete(id);
      const p = loadStation(id).finally(() => loading.delete(id));
      loading.set(id, p);
    },
    onTokenChanged: (idTag) => {
      tokenCache.delete(idTag);
      changedTokens.add(idTag);
    },
  });
  const server = http.createServer(api);
  server.on("clientError", (_error, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`manager could not listen on ${host}:${opts.port ?? 9410}: ${error.message}`));
      server.once("error", onError);
      server.listen(opts.port ?? 9410, host, () => {
        server.off("error", onError);
        resolve();
      });
    });
  } catch (error) {
    await mqtt.endAsync(true).catch(() => {});
    clearInterval(stateTimer);
    clearInterval(retentionTimer);
    clearInterval(meterTimer);
    clearInterval(sweepTimer);
    feed.close();
    throw error;
  }
  const url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  log.info({ url, managerId, mqttUrl: opts.mqttUrl, prefix, shared, mqttVersion }, "csms manager started");

  let closingPromise: Promise<void> | undefined;
  const close = () =>
    (closingPromise ??= (async () => {
      closing = true;
      clearInterval(sweepTimer);
      clearInterval(meterTimer);
      clearInterval(retentionTimer);
      clearInterval(stateTimer);
      for (const [id, p] of pending) {
        pending.delete(id);
        p.resolve({ type: 4, id, error_code: "ManagerShutdown", error_description: "the manager is shutting down" });
      }
      // Stop taking messages, let the ones in hand finish, then write every batch.
      const ended = await withTimeout(mqtt!.endAsync().then(() => true), 1000).catch(() => false);
      if (!ended) await mqtt!.endAsync(true).catch(() => {});
      await withTimeout(Promise.allSettled([...stationQueues.values()]), 2000);
      await writes.close().catch(() => {});
      await Promise.allSettled([messageLog.close(), samples.close(), flushStateSerial(), commandRecords.close()]);
      feed.close();
      server.closeAllConnections();
      await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 1000);
      log.info({ managerId }, "csms manager stopped");
    })());

  return { url, managerId, sharedSubscription: () => shared, flush, close };
};
