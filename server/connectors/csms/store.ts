import "server-only";
import type { MeterEvent, StationView } from "../../../contracts/csms/api";
import { env } from "../../env";
import { createEntityStore, type EntityStore } from "../kit/store";

/**
 * The console's materialized view of the CSMS: every station as the manager last described
 * it, and the latest meter reading per connector. The live view writes it; routers and
 * browser subscriptions read it. One per process, on globalThis, so Next's separate server
 * entries and hot reloads share it.
 */
export type ChargingStore = {
  stations: EntityStore<StationView>;
  meters: EntityStore<MeterEvent>;
};

export const meterKey = (m: Pick<MeterEvent, "stationId" | "evseId" | "connectorId">) => `${m.stationId}/${m.evseId ?? 0}/${m.connectorId ?? 0}`;

export const createChargingStore = (bufferSize = env().LIVE_BUFFER_SIZE): ChargingStore => ({
  stations: createEntityStore<StationView>({ name: "charging.stations", keyOf: (s) => s.id, bufferSize }),
  // Readings are new by definition; comparing them would only cost time.
  meters: createEntityStore<MeterEvent>({ name: "charging.meters", keyOf: meterKey, bufferSize, same: () => false }),
});

const g = globalThis as unknown as { __switchyardCharging?: ChargingStore };
export const chargingStore = (): ChargingStore => (g.__switchyardCharging ??= createChargingStore());
