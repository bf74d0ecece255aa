import { ALARM_SEVERITIES, type AlarmCounts, type DeviceView, type RegionSummary, type SiteView } from "../../../contracts/monitoring";
import type { AlarmEngine } from "../alarms/alarm-engine";
import type { DeviceState, LatestValues } from "../storage/latest-values";
import type { Site } from "../registry";

/** The summary API's views, computed from memory (latest values, active alarms). */
export type ViewContext = { region: string; latest: LatestValues; alarms: AlarmEngine; silentMs: number; now?: () => number };

export const emptyCounts = (): AlarmCounts => ({ ...(Object.fromEntries(ALARM_SEVERITIES.map((s) => [s, 0])) as Record<(typeof ALARM_SEVERITIES)[number], number>), total: 0 });

export const deviceView = (c: ViewContext, d: DeviceState): DeviceView => {
  let activeAlarms = 0;
  for (const a of c.alarms.active()) if (a.device === d.id) activeAlarms += 1;
  return {
    id: d.id,
    site: d.site,
    region: c.region,
    dataset: d.dataset,
    lastSeenAt: new Date(d.lastSeen).toISOString(),
    online: (c.now ?? Date.now)() - d.lastSeen <= c.silentMs,
    status: d.status,
    values: d.values,
    activeAlarms,
  };
};

export const siteView = (c: ViewContext, site: Site): SiteView => {
  let devices = 0;
  let online = 0;
  let lastSeen = 0;
  const now = (c.now ?? Date.now)();
  for (const d of c.latest.all()) {
    if (d.site !== site.id) continue;
    devices += 1;
    if (now - d.lastSeen <= c.silentMs) online += 1;
    lastSeen = Math.max(lastSeen, d.lastSeen);
  }
  const alarms = emptyCounts();
  for (const a of c.alarms.active()) {
    if (a.site !== site.id) continue;
    alarms[a.severity] += 1;
    alarms.total += 1;
  }
  return { id: site.id, name: site.name, region: site.region, kind: site.kind, lat: site.lat, lon: site.lon, devices, onlineDevices: online, lastSeenAt: lastSeen ? new Date(lastSeen).toISOString() : null, alarms };
};

export const regionSummary = (c: ViewContext, sites: Site[]): RegionSummary => {
  const alarms = emptyCounts();
  for (const a of c.alarms.active()) {
    alarms[a.severity] += 1;
    alarms.total += 1;
  }
  let devices = 0;
  let online = 0;
  const now = (c.now ?? Date.now)();
  for (const d of c.latest.all()) {
    devices += 1;
    if (now - d.lastSeen <= c.silentMs) online += 1;
  }
  return { region: c.region, sites: sites.length, devices, onlineDevices: online, alarms };
};
