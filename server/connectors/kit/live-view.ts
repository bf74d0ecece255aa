import "server-only";
import type { z } from "zod";
import { logger } from "../../../lib/log";
import { readSse, type SseEvent } from "../../../lib/sse";
import type { UpstreamHealth, UpstreamStatus } from "../health";
import { checkContract, contractViolation } from "./contract";
import type { UpstreamClient } from "./http-client";
import { UpstreamContractError } from "./upstream-errors";

/** Where a feed stands: event ids on the wire are `<epoch>.<seq>`; the epoch changes when the upstream restarts. */
export type FeedPosition = { epoch: string; seq: number };

/** One feed event by its SSE `event:` name: the contract it must meet, and what to do with it. */
export type LiveEventTable<E extends Record<string, z.ZodType>> = { [K in keyof E]: { schema: E[K]; apply: (data: z.output<E[K]>) => void } };

export type LiveViewTiming = {
  /** How long the link may keep failing before it counts as down (reconnecting until then). */
  downAfterMs?: number;
  /** Reconnect backoff: doubles from min to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** No bytes (not even the upstream's keep-alive comment) for this long → the link is dead. */
  idleTimeoutMs?: number;
};

export type LiveViewOptions<S, E extends Record<string, z.ZodType>> = LiveViewTiming & {
  /** The health bar's id for this link (the domain: `charging`). */
  id: string;
  client: UpstreamClient;
  health: UpstreamHealth;
  /** Fetches the whole state (validated by the client against its contract). */
  fetchSnapshot: (signal: AbortSignal) => Promise<S>;
  /** Applies it (as a diff: see EntityStore.applySnapshot) and says where in the feed it stands. */
  applySnapshot: (snapshot: S) => FeedPosition;
  /** The upstream's SSE path. */
  eventsPath: string;
  events: LiveEventTable<E>;
};

export type LiveViewStatus = {
  /** Whether a snapshot has been applied at least once. */
  synced: boolean;
  connected: boolean;
  epoch: string | null;
  seq: number;
  /** How many snapshots were applied (1 after start, +1 per resync). */
  snapshots: number;
  /** Feed events dropped because they broke their contract. */
  rejectedEvents: number;
  lastError: string | null;
};

export type LiveView = {
  /** The link as the health bar shows it. */
  link: () => UpstreamStatus | undefined;
  status: () => LiveViewStatus;
  /** Resolves once the first snapshot is in. */
  ready: Promise<void>;
  close: () => Promise<void>;
};

class ResyncNeeded extends Error {}

export const parseEventId = (id: string | null): FeedPosition | null => {
  if (!id) return null;
  const dot = id.lastIndexOf(".");
  const seq = Number(id.slice(dot + 1));
  if (dot <= 0 || !Number.isInteger(seq)) return null;
  return { epoch: id.slice(0, dot), seq };
};

type HealthLink = ReturnType<UpstreamHealth["register"]>;

/**
 * A link's state on the health bar, for any follow loop (the SSE view here, RMF's socket.io
 * one): broken → "reconnecting", and "down" once it has stayed broken for `downAfterMs`;
 * connected clears both. Keeps `status.connected` / `lastError` in step.
 */
export const trackLinkState = ({ link, status, downAfterMs, isClosed }: { link: HealthLink; status: Pick<LiveViewStatus, "connected" | "lastError">; downAfterMs: number; isClosed: () => boolean }) => {
  let downTimer: NodeJS.Timeout | null = null;
  let isDown = false;
  return {
    markBroken: (detail: string) => {
      status.connected = false;
      status.lastError = detail;
      if (isClosed()) return;
      // Once down, a link stays down (with the latest reason) until it connects again.
      link.setState(isDown ? "down" : "reconnecting", detail);
      downTimer ??= setTimeout(() => {
        isDown = true;
        link.setState("down", `${status.lastError ?? detail} (for over ${Math.round(downAfterMs / 1000)} s)`);
      }, downAfterMs);
    },
    markConnected: () => {
      if (downTimer) clearTimeout(downTimer);
      downTimer = null;
      isDown = false;
      status.connected = true;
      status.lastError = null;
      link.setState("connected", null);
      link.messageReceived();
    },
    stop: () => {
      if (downTimer) clearTimeout(downTimer);
    },
  };
};

/**
 * Snapshot, then follow: fetch the upstream's whole state, then its SSE feed from the
 * snapshot's position (Last-Event-ID), handing each event to its handler once it meets
 * its contract (an event that does not is counted, logged and skipped). A `resync` event,
 * an event from another epoch (the upstream restarted) or a reconnect after the upstream
 * was unreachable all lead to a fresh snapshot; a console restart starts from one anyway.
 * Reconnects back off (1 s → 10 s by default); the link's state goes to the health bar.
 */
export const startLiveView = <S, E extends Record<string, z.ZodType>>({
  id,
  client,
  health,
  fetchSnapshot,
  applySnapshot,
  eventsPath,
  events,
  downAfterMs = 10_000,
  minBackoffMs = 1000,
  maxBackoffMs = 10_000,
  idleTimeoutMs = 45_000,
}: LiveViewOptions<S, E>): LiveView => {
  const log = logger().child({ connector: id, upstream: client.upstream });
  const link = health.register(id, client.label, client.url);
  const status: LiveViewStatus = { synced: false, connected: false, epoch: null, seq: 0, snapshots: 0, rejectedEvents: 0, lastError: null };
  let closed = false;
  let current: AbortController | null = null;
  let wakeSleep: (() => void) | null = null;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const { markBroken, markConnected, stop: stopLink } = trackLinkState({ link, status, downAfterMs, isClosed: () => closed });

  const resync = (snapshot: S) => {
    const position = applySnapshot(snapshot);
    status.epoch = position.epoch;
    status.seq = position.seq;
    status.synced = true;
    status.snapshots++;
    log.info({ epoch: position.epoch, seq: position.seq, snapshots: status.snapshots }, "snapshot applied");
    resolveReady();
  };

  const handle = (event: SseEvent) => {
    link.messageReceived();
    if (event.event === "resync") throw new ResyncNeeded("the upstream asked for a resync");
    const position = parseEventId(event.id);
    if (position) {
      if (position.epoch !== status.epoch) throw new ResyncNeeded(`upstream epoch changed (${status.epoch} → ${position.epoch})`);
      if (position.seq <= status.seq) return;
      // Even a dropped event moves the position: it will not get any better on replay.
      status.seq = position.seq;
    }
    const handler = Object.hasOwn(events, event.event) ? events[event.event as keyof E] : undefined;
    if (!handler) {
      log.debug({ event: event.event }, "feed event without a handler; ignored");
      return;
    }
    const what = `event ${event.event}`;
    try {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        throw contractViolation({ upstream: client.upstream, label: client.label, url: client.url, what, issues: ["data is not JSON"] });
      }
      handler.apply(checkContract(handler.schema, data, { upstream: client.upstream, label: client.label, url: client.url, what }));
    } catch (error) {
      if (!(error instanceof UpstreamContractError)) throw error;
      status.rejectedEvents++;
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
          resync(await fetchSnapshot(controller.signal));
          needSnapshot = false;
        }
        const body = await client.events(eventsPath, { lastEventId: status.epoch ? `${status.epoch}.${status.seq}` : null, signal: controller.signal });
        streamOpened = true;
        failures = 0;
        markConnected();
        touch();
        await readSse(body, handle, touch);
        throw new Error("the upstream closed the event stream");
      } catch (error) {
        if (closed) break;
        if (error instanceof ResyncNeeded) {
          log.info({ reason: error.message }, "resync");
          needSnapshot = true;
          controller.abort();
          continue;
        }
        const reason = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason.message : (error as Error).message;
        // The upstream was unreachable (not just a dropped stream): whatever happened
        // meanwhile cannot be trusted to replay, so start over from a snapshot.
        if (!streamOpened) needSnapshot = true;
        failures++;
        markBroken(reason);
        log.warn({ err: reason, failures }, "link broken; reconnecting");
        controller.abort();
        await sleep(Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(failures - 1, 10)));
      } finally {
        clearTimeout(idle);
      }
    }
  };

  const loop = run().catch((error) => log.error({ err: error }, "live view stopped"));

  return {
    link: () => health.get(id),
    status: () => ({ ...status }),
    ready,
    close: async () => {
      closed = true;
      current?.abort();
      wakeSleep?.();
      stopLink();
      await loop;
      link.unregister();
    },
  };
};
