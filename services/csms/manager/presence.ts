import { gatewayStatusSchema, isValidStationId, stationPresenceSchema, type StationPresence } from "../../../contracts/csms/mqtt";
import type { Broadcast } from "./broadcast";
import type { ManagerContext } from "./context";
import { parsePayload } from "./input";
import type { Ownership } from "./ownership";
import type { StationCache } from "./station-cache";
import type { Store } from "./store";

/**
 * Online / offline: the gateways' retained station presence and gateway liveness, and a
 * periodic sweep for stations whose last message is older than two heartbeat intervals.
 */
export const createPresence = (ctx: ManagerContext, { store, view, broadcast, ownership }: { store: Store; view: StationCache; broadcast: Broadcast; ownership: Ownership }) => {
  const { db, log, state, topics } = ctx;
  const { presence } = state;

  // With affinity only the owner acts, and tells the others; shared, every manager appends its own.
  const tellOthers = ownership.enabled;
  const presenceChanged = (stationId: string, p: StationPresence) => {
    if (!ownership.owns(stationId)) return;
    void ctx.serial(stationId, async () => {
      const st = await view.getStation(stationId);
      if (!st.exists) return;
      const before = st.emittedOnline;
      const now = view.isOnline(stationId, st.lastSeenAt, st.heartbeatIntervalSec);
      if (p.gateway !== st.gateway) {
        st.gateway = p.gateway;
        await db.csmsStation.update({ where: { id: stationId }, data: { gateway: p.gateway } }).catch(() => {});
      }
      // Every manager sees presence, so each appends its own event and none broadcasts it.
      if (before !== now) broadcast.emitStation(st, tellOthers);
    });
  };

  /** Retained gateway liveness: when a gateway dies (its will fires), its stations are offline. */
  const deadGateways = new Map<string, number>();

  const onPresence = (topic: string, stationId: string, payload: Buffer, retained: boolean) => {
    // An empty retained payload is how a presence is cleared, not a message.
    if (payload.length === 0) return;
    if (!isValidStationId(stationId)) return ctx.dropBad("presence", "topic", topic);
    const parsed = parsePayload(stationPresenceSchema, payload);
    if (!parsed.ok) return ctx.dropBad("presence", parsed.reason, topic, parsed.detail);
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

  const onGatewayStatus = (topic: string, payload: Buffer) => {
    if (payload.length === 0) return; // empty payloads clear retained state
    const parsed = parsePayload(gatewayStatusSchema, payload);
    if (!parsed.ok) return ctx.dropBad("gateway", parsed.reason, topic, parsed.detail);
    const status = parsed.data;
    // The topic names the gateway; a status about another one is forged or misrouted.
    if (topic !== topics.gateway(status.gateway)) return ctx.dropBad("gateway", "topic", topic);
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

  const sweep = async () => {
    const now = Date.now();
    const candidates = [...state.cache.values()].filter((st) => st.emittedOnline === true && ownership.owns(st.id) && !view.isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec, now));
    if (!candidates.length) return;
    await store.flushStateSerial();
    const rows = await db.csmsStation.findMany({ where: { id: { in: candidates.map((c) => c.id) } }, select: { id: true, lastSeenAt: true } });
    const seen = new Map(rows.map((r) => [r.id, r.lastSeenAt]));
    for (const st of candidates) {
      const dbSeen = seen.get(st.id);
      if (dbSeen && (!st.lastSeenAt || dbSeen > st.lastSeenAt)) st.lastSeenAt = dbSeen;
      if (!view.isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec)) broadcast.emitStation(st, tellOthers);
    }
  };
  let sweepTimer: NodeJS.Timeout | undefined;
  /** Starts the offline sweep (once subscribed). */
  const startSweep = () => {
    sweepTimer = setInterval(() => void sweep().catch((error: Error) => log.warn({ err: error.message }, "offline sweep failed")), ctx.opts.sweepIntervalMs ?? 5000);
    sweepTimer.unref();
  };

  return { onPresence, onGatewayStatus, startSweep, stopSweep: () => clearInterval(sweepTimer) };
};
