import { z } from "zod";
import type { ManagerContext } from "./context";
import { parsePayload } from "./input";

/**
 * Per-station affinity between managers (`CSMS_MANAGER_AFFINITY=station`): every manager
 * announces itself on its own feed topic (`member`, every second, at once on start and when
 * it hears a new member; `member-gone` as its MQTT last will and on a clean close). A peer
 * not heard for `memberGoneMs` is gone. Each station is owned by the live member with the
 * highest rendezvous weight for its id; only the owner handles its messages, presence and
 * offline sweep. On a membership change the loser flushes its writes at once and the gainer
 * loads the station from the database after `changeAt + handoverMs` (services/csms/README.md
 * § Station affinity).
 */

export type Affinity = "station" | "share";
export const DEFAULT_AFFINITY: Affinity = "station";

const ZMemberId = z.string().regex(/^[A-Za-z0-9_-]{1,8}$/);
/** A manager's membership announcement on `<prefix>/feed/<its id>` (the id must match the topic). */
export const ZMemberMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("member"), d: z.object({ id: ZMemberId }).strict() }).strict(),
  z.object({ t: z.literal("member-gone"), d: z.object({ id: ZMemberId }).strict() }).strict(),
]);
export type MemberMessage = z.infer<typeof ZMemberMessage>;

/** 32-bit FNV-1a of a string, with murmur3's finaliser so near-equal inputs spread. */
const weight = (member: string, stationId: string) => {
  let h = 0x811c9dc5;
  const s = `${member}\n${stationId}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** Rendezvous (highest-random-weight) owner of a station among `members` (ties: the smaller id). */
export const ownerOf = (stationId: string, members: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = weight(m, stationId);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
};

/** Who is alive, from what was heard when (pure: the caller passes the time). */
export const createMembership = (self: string, goneAfterMs: number) => {
  const lastHeard = new Map<string, number>();
  const members = () => [self, ...lastHeard.keys()].sort();
  return {
    members,
    /** A peer's `member` message; true when it is new. */
    heard: (id: string, now: number) => {
      if (id === self) return false;
      const isNew = !lastHeard.has(id);
      lastHeard.set(id, now);
      return isNew;
    },
    /** A peer's `member-gone`; true when it was a member. */
    gone: (id: string) => id !== self && lastHeard.delete(id),
    /** Drops peers not heard for `goneAfterMs`; returns them. */
    expire: (now: number) => {
      const dropped: string[] = [];
      for (const [id, at] of lastHeard) if (now - at >= goneAfterMs) dropped.push(id);
      for (const id of dropped) lastHeard.delete(id);
      return dropped;
    },
  };
};

/** The manager's side of it: announcements, the owner check and the handover bookkeeping. */
export const createOwnership = (ctx: ManagerContext, { flushWrites }: { flushWrites: () => Promise<void> }) => {
  const { opts, managerId, topics, state, metrics, log, prefix } = ctx;
  const enabled = (opts.affinity ?? DEFAULT_AFFINITY) === "station";
  const intervalMs = opts.memberIntervalMs ?? 1000;
  const handoverMs = opts.handoverMs ?? 500;
  const goneMs = opts.memberGoneMs ?? 3000;
  const membership = createMembership(managerId, goneMs);
  let members: string[] = [managerId];
  let started = false;
  /** Gained stations: their state must be loaded at or after this time. */
  const handover = new Map<string, number>();
  /** Every cached state loaded before this is suspect (set at start when peers exist). */
  let validAfter = 0;
  /** A station not cached is loaded no earlier than the last change's handover time. */
  let uncachedNotBefore = 0;
  let timer: NodeJS.Timeout | undefined;

  const owns = (stationId: string) => !enabled || members.length === 1 || ownerOf(stationId, members) === managerId;

  const announce = (t: MemberMessage["t"]) => {
    const mqtt = state.mqtt;
    if (!mqtt || !enabled) return Promise.resolve();
    metrics.mqttMessages.inc({ direction: "published" });
    return mqtt.publishAsync(topics.feed(managerId), JSON.stringify({ t, d: { id: managerId } }), { qos: 0 }).then(
      () => undefined,
      () => undefined,
    );
  };

  const apply = (next: string[]) => {
    const prev = members;
    members = next;
    metrics.members.set(next.length);
    if (next.length > 1) state.otherManagers = true;
    if (!started) return;
    log.warn({ managerId, members: next }, "manager membership changed; stations move");
    const notBefore = Date.now() + handoverMs;
    uncachedNotBefore = notBefore;
    let lost = 0;
    let gained = 0;
    for (const id of state.cache.keys()) {
      const was = prev.length === 1 || ownerOf(id, prev) === managerId;
      const now = next.length === 1 || ownerOf(id, next) === managerId;
      if (was && !now) {
        lost++;
        handover.delete(id);
      } else if (!was && now) {
        gained++;
        state.cache.delete(id); // never answer from a state another manager kept current
        handover.set(id, notBefore);
      }
    }
    metrics.handover.inc({ direction: "lost" }, lost);
    metrics.handover.inc({ direction: "gained" }, gained);
    // A loser lets the messages in hand finish, then writes everything, before the gainer loads.
    if (lost || next.length > prev.length)
      void (async () => {
        await Promise.allSettled(ctx.inFlight());
        await flushWrites();
      })().catch((error: Error) => log.warn({ err: error.message }, "flushing after a handover failed"));
  };

  let lastTick = Date.now();
  const tick = () => {
    const now = Date.now();
    // A late tick means this event loop was stalled: the peers' announcements may be sitting
    // unread in the socket, so nobody is declared gone until they had a chance to be read.
    const stalled = now - lastTick > 2 * intervalMs;
    // Stalled so long that the peers took this manager for gone (and its stations with it).
    if (now - lastTick > goneMs) rejoined();
    lastTick = now;
    if (!stalled && membership.expire(now).length) apply(membership.members());
    void announce("member");
  };

  /** A message on another manager's feed topic: true when it was a membership message. */
  const onFeed = (topic: string, payload: Buffer) => {
    if (payload.subarray(0, 12).toString("latin1") !== '{"t":"member') return false;
    if (!enabled) return true;
    const parsed = parsePayload(ZMemberMessage, payload);
    if (!parsed.ok) {
      ctx.dropBad("feed", parsed.reason, topic, parsed.detail);
      return true;
    }
    const msg = parsed.data as MemberMessage;
    if (topic !== `${prefix}/feed/${msg.d.id}`) {
      ctx.dropBad("feed", "topic", topic);
      return true;
    }
    if (msg.t === "member-gone") {
      if (membership.gone(msg.d.id)) apply(membership.members());
    } else if (membership.heard(msg.d.id, Date.now())) {
      apply(membership.members());
      void announce("member"); // the newcomer learns of us at once
    }
    return true;
  };

  /**
   * Before the station topics are subscribed: announce, and give peers `settleMs` to answer,
   * so a new manager never thinks it owns every station.
   */
  const join = async () => {
    if (!enabled) return;
    await announce("member");
    timer = setInterval(tick, intervalMs);
    timer.unref();
    await new Promise((resolve) => setTimeout(resolve, opts.settleMs ?? 300));
    // With peers, what was loaded so far (warm-up) may predate their writes.
    if (members.length > 1) validAfter = uncachedNotBefore = Date.now() + handoverMs;
    started = true;
  };

  /**
   * For a station this manager owns: the time its state must have been loaded at or after
   * (0: any cached state is the truth). undefined: not owned, or affinity off.
   */
  const loadFrom = (stationId: string, cached: boolean) => {
    if (!enabled || !owns(stationId)) return undefined;
    const from = Math.max(validAfter, handover.get(stationId) ?? 0, cached ? 0 : uncachedNotBefore);
    return from;
  };
  const loaded = (stationId: string, at: number) => {
    const h = handover.get(stationId);
    if (h !== undefined && at >= h) handover.delete(stationId);
  };

  /**
   * After an MQTT reconnect: the peers may have declared this manager gone (its will) and
   * handled its stations meanwhile, so nothing cached for an owned station is trusted.
   */
  const rejoined = () => {
    if (!enabled || !started) return;
    validAfter = uncachedNotBefore = Date.now() + handoverMs;
    void announce("member");
  };

  const leave = async () => {
    clearInterval(timer);
    if (enabled) await announce("member-gone");
  };

  return {
    enabled,
    owns,
    members: () => members,
    onFeed,
    join,
    leave,
    loadFrom,
    loaded,
    rejoined,
    /** The MQTT last will: peers hear `member-gone` when this manager's connection dies. */
    will: () => (enabled ? { topic: topics.feed(managerId), payload: JSON.stringify({ t: "member-gone", d: { id: managerId } }) } : undefined),
  };
};
export type Ownership = ReturnType<typeof createOwnership>;
