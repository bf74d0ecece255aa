import type { MeterEvent } from "../../../contracts/csms/api";
import type { ManagerContext, StationState } from "./context";
import type { FeedEventType } from "./feed";
import type { StationCache } from "./station-cache";

const STATION_WINDOW_MS = 1000;

/**
 * The live feed: this manager's own events go into its SSE feed (feed.ts) and, for the other
 * managers, onto its feed topic. Live figures are coalesced (one event per station / connector
 * per second at most).
 */
export const createBroadcast = (ctx: ManagerContext, { view }: { view: StationCache }) => {
  const { state, feed, metrics, log, shouldLog, topics, managerId } = ctx;

  const publishRaw = (topic: string, payload: string) =>
    new Promise<void>((resolve) => {
      const mqtt = state.mqtt;
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
    if (broadcast) void publishRaw(topics.feed(managerId), JSON.stringify({ t: type, d: data }));
  };
  const emitStation = (st: StationState, broadcast = true) => {
    const v = view.viewOf(st);
    st.emittedOnline = v.online;
    stationEmittedAt.set(st.id, Date.now());
    pendingStation.delete(st.id);
    emit("station", v, broadcast);
  };

  /**
   * Live figures (last seen, power, energy, connector values) after any station message:
   * at most one station event per station per second. The first change in a window goes
   * out at once (leading edge); later ones in the same window are folded into one event at
   * its end (trailing edge), so the view is never more than a second behind. These live
   * events go to the other managers only once there are any (state changes always do).
   */
  const stationEmittedAt = new Map<string, number>();
  const pendingStation = new Set<string>();
  const liveStation = (st: StationState) => {
    if (!st.exists) return;
    if (Date.now() - (stationEmittedAt.get(st.id) ?? 0) >= STATION_WINDOW_MS && !pendingStation.has(st.id)) emitStation(st, state.otherManagers);
    else pendingStation.add(st.id);
  };
  const flushLiveStations = () => {
    const now = Date.now();
    for (const id of pendingStation) {
      if (now - (stationEmittedAt.get(id) ?? 0) < STATION_WINDOW_MS) continue;
      const st = state.cache.get(id);
      if (st?.exists) emitStation(st, state.otherManagers);
      else pendingStation.delete(id);
    }
    if (stationEmittedAt.size > 2 * state.cache.size + 1000) for (const [id, at] of stationEmittedAt) if (now - at >= STATION_WINDOW_MS) stationEmittedAt.delete(id);
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

  return { publishRaw, emit, emitStation, liveStation, emitMeter, stop: () => clearInterval(meterTimer) };
};
export type Broadcast = ReturnType<typeof createBroadcast>;
