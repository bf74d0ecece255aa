import "server-only";
import { alarmViewSchema, deviceViewSchema, featureMessageSchema, siteViewSchema } from "../../../contracts/monitoring";
import { logger } from "../../../lib/log";
import type { UpstreamHealth } from "../health";
import { startLiveView, type LiveViewTiming } from "../kit/live-view";
import type { MonitoringClient } from "./client";
import { monitoringStore, type MonitoringStore } from "./store";

export type MonitoringLiveViewOptions = LiveViewTiming & { client: MonitoringClient; health: UpstreamHealth; store?: MonitoringStore };

/**
 * The monitoring service on the kit's snapshot-then-follow loop, over every region it
 * stores (the routers filter per user): the snapshot fills sites, devices, active alarms
 * and flags; the SSE feed (`GET /api/v1/events`, device events coalesced per device)
 * keeps them current.
 */
export const startMonitoringLiveView = ({ client, health, store = monitoringStore(), ...timing }: MonitoringLiveViewOptions) =>
  startLiveView({
    ...timing,
    id: "monitoring",
    client: client.http,
    health,
    fetchSnapshot: (signal) => client.snapshot(signal),
    applySnapshot: ({ epoch, seq, sites, devices, alarms, flags }) => {
      const changed = store.sites.applySnapshot(sites) + store.devices.applySnapshot(devices) + store.alarms.applySnapshot(alarms) + store.flags.applySnapshot([flags]);
      logger().debug({ connector: "monitoring", sites: sites.length, devices: devices.length, alarms: alarms.length, changed }, "monitoring snapshot");
      return { epoch, seq };
    },
    eventsPath: "/api/v1/events",
    events: {
      site: { schema: siteViewSchema, apply: (site) => store.sites.upsert(site) },
      device: { schema: deviceViewSchema, apply: (device) => store.devices.upsert(device) },
      alarm: { schema: alarmViewSchema, apply: (alarm) => (alarm.active ? store.alarms.upsert(alarm) : store.alarms.remove(alarm.id)) },
      flags: { schema: featureMessageSchema, apply: (flags) => store.flags.upsert(flags) },
    },
  });
