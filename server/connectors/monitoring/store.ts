import "server-only";
import type { AlarmView, DeviceView, FeatureMessage, SiteView } from "../../../contracts/monitoring";
import { env } from "../../env";
import { createEntityStore, type EntityStore } from "../kit/store";

/**
 * The console's materialized view of the monitoring service, over every region it stores:
 * sites (with their alarm counts), devices (latest values), the active alarms and the
 * feature flags. The live view writes it; routers read it and stream it to browsers, each
 * filtered to the regions of the user (server/monitoring/regions.ts). One per process, on
 * globalThis, so Next's separate server entries and hot reloads share it.
 */
export type MonitoringStore = {
  sites: EntityStore<SiteView>;
  devices: EntityStore<DeviceView>;
  /** Active alarms only: an alarm event that says cleared removes it. */
  alarms: EntityStore<AlarmView>;
  /** One entry (`flags`): the last `system.feature` message. */
  flags: EntityStore<FeatureMessage>;
};

export const siteKey = (s: Pick<SiteView, "region" | "id">) => `${s.region}/${s.id}`;
export const deviceKey = (d: Pick<DeviceView, "region" | "id">) => `${d.region}/${d.id}`;
export const FLAGS_KEY = "flags";

export const createMonitoringStore = (bufferSize = env().LIVE_BUFFER_SIZE): MonitoringStore => ({
  sites: createEntityStore<SiteView>({ name: "monitoring.sites", keyOf: siteKey, bufferSize }),
  devices: createEntityStore<DeviceView>({ name: "monitoring.devices", keyOf: deviceKey, bufferSize }),
  alarms: createEntityStore<AlarmView>({ name: "monitoring.alarms", keyOf: (a) => a.id, bufferSize }),
  flags: createEntityStore<FeatureMessage>({ name: "monitoring.flags", keyOf: () => FLAGS_KEY, bufferSize: 16 }),
});

const g = globalThis as unknown as { __switchyardMonitoring?: MonitoringStore };
export const monitoringStore = (): MonitoringStore => (g.__switchyardMonitoring ??= createMonitoringStore());
