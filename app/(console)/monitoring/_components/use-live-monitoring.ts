"use client";

import { skipToken } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import type { AlarmView, DeviceView, SiteView } from "@/contracts/monitoring";
import { useLiveFeed } from "../../_components/ui/live-feed";

const siteKey = (s: SiteView) => `${s.region}/${s.id}`;
const deviceKey = (d: DeviceView) => `${d.region}/${d.id}`;
const alarmKey = (a: AlarmView) => a.id;

/** Sites of the user's regions, live (or of one region, or one site). */
export const useLiveSites = (input?: { region?: string; site?: string }) => {
  const trpc = useTRPC();
  return useLiveFeed<SiteView>({ keyOf: siteKey, subscribe: (onData) => trpc.monitoring.sites.onChange.subscriptionOptions(input, { onData }) });
};

/** Devices of one region (one site, or one device), live with their latest values. */
export const useLiveDevices = (input: { region: string; site?: string; device?: string } | null) => {
  const trpc = useTRPC();
  return useLiveFeed<DeviceView>({ keyOf: deviceKey, subscribe: (onData) => trpc.monitoring.devices.onChange.subscriptionOptions(input ?? skipToken, { onData }) });
};

/** Active alarms of the user's regions, live (narrowed to a region, site or device). */
export const useLiveAlarms = (input?: { region?: string; site?: string; device?: string }) => {
  const trpc = useTRPC();
  return useLiveFeed<AlarmView>({ keyOf: alarmKey, subscribe: (onData) => trpc.monitoring.alarms.onChange.subscriptionOptions(input, { onData }) });
};
