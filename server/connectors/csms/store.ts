import "server-only";
import { env } from "../../env";
import { Feed } from "../../../lib/feed";
import type { MeterEvent, StationView } from "../../../contracts/csms/api";

/**
 * The console's materialized view of the CSMS: every station as the manager last described
 * it, and the latest meter reading per connector. The live view (live-view.ts) writes it;
 * routers and browser subscriptions read it. One per process, on globalThis, so Next's
 * separate server entries and hot reloads share it.
 */
export type ChargingStore = {
  stations: Map<string, StationView>;
  feed: Feed<StationView>;
  meters: Map<string, MeterEvent>;
  meterFeed: Feed<MeterEvent>;
};

export const meterKey = (m: Pick<MeterEvent, "stationId" | "evseId" | "connectorId">) => `${m.stationId}/${m.evseId ?? 0}/${m.connectorId ?? 0}`;

export const createChargingStore = (bufferSize = env().LIVE_BUFFER_SIZE): ChargingStore => {
  const stations = new Map<string, StationView>();
  const meters = new Map<string, MeterEvent>();
  return {
    stations,
    meters,
    feed: new Feed<StationView>({ name: "charging.stations", keyOf: (s) => s.id, snapshot: () => [...stations.values()], bufferSize }),
    meterFeed: new Feed<MeterEvent>({ name: "charging.meters", keyOf: meterKey, snapshot: () => [...meters.values()], bufferSize }),
  };
};

const g = globalThis as unknown as { __switchyardCharging?: ChargingStore };
export const chargingStore = (): ChargingStore => (g.__switchyardCharging ??= createChargingStore());
