import type { Prisma } from "@prisma/client";
import { isOcppVersion } from "../../../contracts/csms/mqtt";
import { ZManagerFeedMessage, type MeterEvent, type StationView, type TransactionView } from "../../../contracts/csms/api";
import type { Tokens } from "./calls-auth";
import { connectorKey, iso, startOfToday, type ManagerContext, type StationRow, type StationState, type TxRow, type TxState } from "./context";
import { parsePayload } from "./input";
import type { Ownership } from "./ownership";
import type { Store } from "./store";

const CACHE_TTL_MS = 60_000;

export const txFromRow = (r: TxRow): TxState => ({
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

export const txView = (t: TxState): TransactionView => ({
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

const txWhere = (stationIds?: string[]) => ({
  ...(stationIds ? { stationId: { in: stationIds } } : {}),
  OR: [{ active: true }, { startedAt: { gte: startOfToday() } }],
});

/** Keeps the running values this process knows better than the (batched) database. */
const overlayRunning = (st: StationState, known: StationState) => {
  for (const [txId, t] of known.txs) {
    const fresh = st.txs.get(txId);
    if (fresh?.active && t.active) Object.assign(fresh, { energyWh: t.energyWh, powerW: t.powerW, socPct: t.socPct });
  }
};

/**
 * The in-memory view of the stations: loaded at start (warm-up), per station on first use,
 * refreshed once other managers exist, kept current by their feed events; and the views
 * (StationView / TransactionView) made from it.
 */
export const createStationCache = (ctx: ManagerContext, { store, tokens, ownership }: { store: Store; tokens: Tokens; ownership: Ownership }) => {
  const { db, log, state, feed, metrics } = ctx;
  const { cache, loading, presence } = state;
  const { writes } = store;

  /** `loadedAt`: when the read of these rows started. */
  const stateFromRows = (id: string, row: StationRow | null, txRows: TxRow[], loadedAt = Date.now()): StationState => ({
    id,
    exists: !!row,
    protocol: row?.protocol && isOcppVersion(row.protocol) ? row.protocol : null,
    registeredAt: row?.registeredAt ?? null,
    vendor: row?.vendor ?? null,
    model: row?.model ?? null,
    firmwareVersion: row?.firmwareVersion ?? null,
    serialNumber: row?.serialNumber ?? null,
    heartbeatIntervalSec: row?.heartbeatIntervalSec ?? ctx.heartbeatIntervalSec,
    bootedAt: row?.bootedAt ?? null,
    lastSeenAt: row?.lastSeenAt ?? null,
    gateway: row?.gateway ?? null,
    connectors: new Map(
      (row?.connectors ?? []).map((c) => [connectorKey(c.evseId, c.connectorId), { evseId: c.evseId, connectorId: c.connectorId, status: c.status, errorCode: c.errorCode, updatedAt: c.updatedAt }]),
    ),
    txs: new Map(txRows.map((t) => [t.id, txFromRow(t)])),
    loadedAt,
  });

  /** Configured heartbeat intervals (ChangeConfiguration / SetVariables accepted), loaded at warm-up. */
  const configuredHeartbeats = new Map<string, number>();
  let heartbeatsLoaded = false;

  /**
   * Loads every station (with connectors, open and today's transactions, configured
   * heartbeat intervals) into the cache in chunks at start, so the first message of each
   * station is answered from memory instead of waiting for two queries. Stations already
   * cached (a message came first) are left alone.
   */
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
    const tokenCount = await tokens.warmUp();
    let after: string | undefined;
    let n = 0;
    for (;;) {
      if (state.closing) return;
      const chunkAt = Date.now();
      const rows = await db.csmsStation.findMany({ where: after !== undefined ? { id: { gt: after } } : {}, include: { connectors: true }, orderBy: { id: "asc" }, take: 1000 });
      if (!rows.length) break;
      const txRows = await db.csmsTransaction.findMany({ where: txWhere(rows.map((r) => r.id)) });
      const byStation = new Map<string, TxRow[]>();
      for (const t of txRows) byStation.set(t.stationId, [...(byStation.get(t.stationId) ?? []), t]);
      for (const row of rows) {
        if (cache.has(row.id) || loading.has(row.id)) continue;
        cache.set(row.id, stateFromRows(row.id, row, byStation.get(row.id) ?? [], chunkAt));
        n++;
      }
      if (rows.length < 1000) break;
      after = rows[rows.length - 1].id;
    }
    state.warmed = true;
    log.info({ stations: n, tokens: tokenCount, ms: Date.now() - started }, "station cache warmed");
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

  /**
   * Alone on the broker, this manager's view is the truth: nothing else changes the rows.
   * Once another manager shows up (its feed events arrive), cached stations are reloaded
   * after CACHE_TTL_MS so its changes can never be missed for long.
   */
  const fresh = (st: StationState) => {
    // Owned (affinity): the cache is the truth once loaded after the station was gained.
    const from = ownership.loadFrom(st.id, true);
    if (from !== undefined) return st.loadedAt >= from;
    return !state.otherManagers || Date.now() - st.loadedAt < CACHE_TTL_MS;
  };
  const loadStation = async (id: string) => {
    const startedAt = Date.now();
    const [row, txRows] = await Promise.all([
      db.csmsStation.findUnique({ where: { id }, include: { connectors: true } }),
      db.csmsTransaction.findMany({ where: { stationId: id, OR: [{ active: true }, { startedAt: { gte: startOfToday() } }] } }),
    ]);
    const st = stateFromRows(id, row, txRows, startedAt);
    ownership.loaded(id, startedAt);
    const old = cache.get(id);
    if (old) {
      // Keep what this process knows better than the (batched) database.
      if (old.lastSeenAt && (!st.lastSeenAt || old.lastSeenAt > st.lastSeenAt)) st.lastSeenAt = old.lastSeenAt;
      st.emittedOnline = old.emittedOnline;
      st.declaredConnectors = old.declaredConnectors;
      overlayRunning(st, old);
    }
    cache.set(id, st);
    return st;
  };
  /**
   * An owned station (affinity) whose state must be loaded at or after `from` (it was just
   * gained): waits until then, loads once (serially with any load in progress), answers that.
   */
  const loadOwned = async (id: string, from: number): Promise<StationState> => {
    for (;;) {
      const inProgress = loading.get(id);
      if (inProgress) await inProgress.catch(() => {});
      const st = cache.get(id);
      if (st && st.loadedAt >= from) return st;
      if (loading.has(id)) continue;
      // Older than the handover: dropped, not overlaid (another manager may have moved on).
      if (st) cache.delete(id);
      const wait = from - Date.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      const p = loadStation(id).finally(() => loading.delete(id));
      loading.set(id, p);
      return p;
    }
  };
  const getStation = (id: string): Promise<StationState> => {
    const st = cache.get(id);
    const from = ownership.loadFrom(id, !!st);
    if (from !== undefined) {
      if (st && st.loadedAt >= from) return Promise.resolve(st);
      if (!st && !from && !loading.has(id) && state.warmed && !state.otherManagers) {
        // Alone and warmed: a station not in the cache is not in the database either.
        const none = stateFromRows(id, null, []);
        cache.set(id, none);
        return Promise.resolve(none);
      }
      return loadOwned(id, from);
    }
    if (st && fresh(st)) return Promise.resolve(st);
    if (st) {
      // Stale: answer from memory, refresh behind (other managers' changes), after our own writes.
      st.loadedAt = Date.now();
      void ctx.serial(id, async () => {
        await writes.flush();
        await loadStation(id);
      });
      return Promise.resolve(st);
    }
    let p = loading.get(id);
    if (!p && state.warmed && !state.otherManagers) {
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
      if (cached) overlayRunning(st, cached);
      return { view: viewOf(st, now), row };
    });
  };

  /** How many stations matching `where` are (not) online right now (the database's last-seen, overlaid with ours). */
  const countOnline = async (where: Prisma.CsmsStationWhereInput, online: boolean) => {
    await store.flushStateSerial();
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
  };

  /** One station for the API: from memory when fresh, else after our writes from the database. */
  const stationForApi = async (id: string) => {
    const cached = cache.get(id);
    const st = cached?.exists && fresh(cached) ? cached : (await writes.flush(), await loadStation(id));
    return st.exists ? { view: viewOf(st), registeredAt: st.registeredAt } : undefined;
  };
  /** Registered through the API (maybe on another manager): load it again. */
  const reload = (id: string) => {
    cache.delete(id);
    const p = loadStation(id).finally(() => loading.delete(id));
    loading.set(id, p);
  };

  /**
   * Another manager's change (`ZManagerFeedMessage`): into our feed, and into our cache so
   * our next view is current. Anything that fails the contract is dropped before it can
   * reach either, so a malformed or forged event never changes a view or a KPI.
   */
  const onForeignEvent = (topic: string, payload: Buffer) => {
    const parsed = parsePayload(ZManagerFeedMessage, payload);
    if (!parsed.ok) return ctx.dropBad("feed", parsed.reason, topic, parsed.detail);
    state.otherManagers = true;
    const msg = parsed.data;
    feed.publish(msg.t, msg.d);
    metrics.feedEvents.inc({ type: msg.t, origin: "foreign" });
    // An owned station's cache is the truth (a late event of its previous owner changes nothing).
    if (ownership.enabled && ownership.owns(msg.t === "station" ? msg.d.id : msg.d.stationId)) return;
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

  return {
    warmUp,
    configuredHeartbeat,
    rememberHeartbeat: (stationId: string, sec: number) => void configuredHeartbeats.set(stationId, sec),
    loadStation,
    getStation,
    isOnline,
    viewOf,
    loadViews,
    countOnline,
    stationForApi,
    reload,
    onForeignEvent,
  };
};
export type StationCache = ReturnType<typeof createStationCache>;
