import "server-only";
import { EventEmitter } from "node:events";
import { logger } from "../../../lib/log";
import type { UpstreamHealth, UpstreamStatus } from "../health";
import { CsmsApiError, type CsmsClient } from "./client";
import { readSse, type SseEvent } from "../../../lib/sse";
import { chargingStore, meterKey, type ChargingStore } from "./store";
import type { MeterEvent, StationsSnapshot, StationView, TransactionView } from "../../../contracts/csms/api";

export type CsmsLiveViewOptions = {
  client: CsmsClient;
  health: UpstreamHealth;
  store?: ChargingStore;
  /** How long the link may keep failing before it counts as down (reconnecting until then). */
  downAfterMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** No bytes (not even the manager's 15 s `: ping`) for this long → the link is dead. */
  idleTimeoutMs?: number;
};

export type CsmsLiveViewStatus = {
  /** Whether a snapshot has been applied at least once. */
  synced: boolean;
  connected: boolean;
  epoch: string | null;
  seq: number;
  /** How many snapshots were applied (1 after start, +1 per resync). */
  snapshots: number;
  lastError: string | null;
};

type Events = {
  snapshot: [StationsSnapshot];
  station: [StationView];
  transaction: [TransactionView];
  meter: [MeterEvent];
};

export type CsmsLiveView = {
  client: CsmsClient;
  /** The link as the health bar shows it (id "charging"). */
  link: () => UpstreamStatus | undefined;
  store: ChargingStore;
  status: () => CsmsLiveViewStatus;
  /** Resolves once the first snapshot is in. */
  ready: Promise<void>;
  events: EventEmitter<Events>;
  close: () => Promise<void>;
};

class ResyncNeeded extends Error {}

const parseEventId = (id: string | null) => {
  if (!id) return null;
  const dot = id.lastIndexOf(".");
  const seq = Number(id.slice(dot + 1));
  if (dot <= 0 || !Number.isInteger(seq)) return null;
  return { epoch: id.slice(0, dot), seq };
};

const sameStation = (a: StationView, b: StationView) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The console's live view of the CSMS: fetch the stations snapshot, then follow the
 * manager's SSE feed from the snapshot's position (Last-Event-ID), upserting stations into
 * the store and its Feed. A `resync` event, an event from another epoch (the manager
 * restarted) or a reconnect after the manager was unreachable all lead to a fresh snapshot,
 * applied as a diff so browsers only see what changed. Reconnects back off 1 s → 10 s.
 */
export const startCsmsLiveView = ({
  client,
  health,
  store = chargingStore(),
  downAfterMs = 10_000,
  minBackoffMs = 1000,
  maxBackoffMs = 10_000,
  idleTimeoutMs = 45_000,
}: CsmsLiveViewOptions): CsmsLiveView => {
  const log = logger().child({ connector: "csms" });
  const link = health.register("charging", "CSMS manager", client.baseUrl);
  const events = new EventEmitter<Events>();
  const status: CsmsLiveViewStatus = { synced: false, connected: false, epoch: null, seq: 0, snapshots: 0, lastError: null };
  let closed = false;
  let current: AbortController | null = null;
  let downTimer: NodeJS.Timeout | null = null;
  let isDown = false;
  let wakeSleep: (() => void) | null = null;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const markBroken = (detail: string) => {
    status.connected = false;
    status.lastError = detail;
    if (closed) return;
    // Once down, a link stays down (with the latest reason) until it connects again.
    if (isDown) link.setState("down", detail);
    else link.setState("reconnecting", detail);
    downTimer ??= setTimeout(() => {
      isDown = true;
      link.setState("down", `${status.lastError ?? detail} (for over ${Math.round(downAfterMs / 1000)} s)`);
    }, downAfterMs);
  };
  const markConnected = () => {
    if (downTimer) clearTimeout(downTimer);
    downTimer = null;
    isDown = false;
    status.connected = true;
    status.lastError = null;
    link.setState("connected", null);
    link.messageReceived();
  };

  const applySnapshot = (snapshot: StationsSnapshot) => {
    const seen = new Set<string>();
    let changed = 0;
    for (const station of snapshot.stations) {
      seen.add(station.id);
      const previous = store.stations.get(station.id);
      if (previous && sameStation(previous, station)) continue;
      store.stations.set(station.id, station);
      store.feed.upsert(station);
      changed++;
    }
    for (const id of [...store.stations.keys()]) {
      if (seen.has(id)) continue;
      store.stations.delete(id);
      store.feed.publish(id, null);
      changed++;
    }
    status.epoch = snapshot.epoch;
    status.seq = snapshot.seq;
    status.synced = true;
    status.snapshots++;
    log.info({ stations: snapshot.stations.length, changed, epoch: snapshot.epoch, seq: snapshot.seq }, "csms snapshot applied");
    events.emit("snapshot", snapshot);
    resolveReady();
  };

  const handle = (event: SseEvent) => {
    link.messageReceived();
    if (event.event === "resync") throw new ResyncNeeded("the manager asked for a resync");
    const position = parseEventId(event.id);
    if (position) {
      if (position.epoch !== status.epoch) throw new ResyncNeeded(`manager epoch changed (${status.epoch} → ${position.epoch})`);
      if (position.seq <= status.seq) return;
    }
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      log.warn({ event: event.event, id: event.id }, "unreadable csms event");
      return;
    }
    if (position) status.seq = position.seq;
    switch (event.event) {
      case "station": {
        const station = data as StationView;
        if (typeof station?.id !== "string") return;
        store.stations.set(station.id, station);
        store.feed.upsert(station);
        events.emit("station", station);
        return;
      }
      case "transaction":
        events.emit("transaction", data as TransactionView);
        return;
      case "meter": {
        const meter = data as MeterEvent;
        if (typeof meter?.stationId !== "string") return;
        store.meters.set(meterKey(meter), meter);
        store.meterFeed.upsert(meter);
        events.emit("meter", meter);
        return;
      }
      default:
        return;
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async () => {
    let needSnapshot = true;
    let failures = 0;
    while (!closed) {
      const controller = new AbortController();
      current = controller;
      let idle: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => controller.abort(new Error(`no data for ${Math.round(idleTimeoutMs / 1000)} s`)), idleTimeoutMs);
      };
      let streamOpened = false;
      try {
        if (needSnapshot) {
          applySnapshot(await client.snapshot(controller.signal));
          needSnapshot = false;
        }
        const res = await client.openEvents(status.epoch ? `${status.epoch}.${status.seq}` : null, controller.signal);
        if (!res.ok || !res.body) {
          await res.body?.cancel();
          throw new CsmsApiError(res.status, `http_${res.status}`, `event stream refused (HTTP ${res.status})`);
        }
        streamOpened = true;
        failures = 0;
        markConnected();
        touch();
        await readSse(res.body, handle, touch);
        throw new Error("the manager closed the event stream");
      } catch (error) {
        if (closed) break;
        if (error instanceof ResyncNeeded) {
          log.info({ reason: error.message }, "csms resync");
          needSnapshot = true;
          controller.abort();
          continue;
        }
        const reason = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason.message : (error as Error).message;
        // The manager was unreachable (not just a dropped stream): whatever happened
        // meanwhile cannot be trusted to replay, so start over from a snapshot.
        if (!streamOpened) needSnapshot = true;
        failures++;
        markBroken(reason);
        log.warn({ err: reason, failures }, "csms link broken; reconnecting");
        controller.abort();
        await sleep(Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(failures - 1, 10)));
      } finally {
        clearTimeout(idle);
      }
    }
  };

  const loop = run().catch((error) => log.error({ err: error }, "csms live view stopped"));

  return {
    client,
    link: () => health.get("charging"),
    store,
    status: () => ({ ...status }),
    ready,
    events,
    close: async () => {
      closed = true;
      current?.abort();
      wakeSleep?.();
      if (downTimer) clearTimeout(downTimer);
      await loop;
      link.unregister();
    },
  };
};
