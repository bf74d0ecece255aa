import "server-only";
import { z } from "zod";
import {
  ACTOR_HEADER,
  alarmListSchema,
  alarmViewSchema,
  deviceViewSchema,
  energyResponseSchema,
  featureMessageSchema,
  regionSummarySchema,
  REGIONS_HEADER,
  seriesResponseSchema,
  siteViewSchema,
  snapshotSchema,
  type AlarmAction,
  type AlarmSeverity,
  type FeatureName,
} from "../../../contracts/monitoring";
import { createUpstreamClient } from "../kit/http-client";

export type MonitoringClientOptions = {
  baseUrl: string;
  token: string | undefined;
  timeoutMs?: number;
};

/**
 * Who a call is for: the signed-in user's regions (the service answers only those; the
 * connector's own process-wide view asks for `*`) and the actor named in its audit log.
 */
export type MonitoringScope = { regions: readonly string[] | "*"; actor: string };

/** The connector's own scope: every region the service stores, for the live view. */
export const SERVICE_SCOPE: MonitoringScope = { regions: "*", actor: "console" };

export const ZRegionsAnswer = z.object({ items: z.array(regionSummarySchema) });
export const ZSitesAnswer = z.object({ items: z.array(siteViewSchema) });
export const ZSiteAnswer = z.object({ site: siteViewSchema, devices: z.array(deviceViewSchema) });
export const ZDeviceAnswer = z.object({ device: deviceViewSchema, metrics: z.array(z.string()), alarms: z.array(alarmViewSchema) });

export type AlarmQuery = { status?: "active" | "cleared" | "all"; site?: string; device?: string; severity?: AlarmSeverity; limit?: number; cursor?: string | null };
export type SeriesQuery = { metrics: readonly string[]; from: number; to?: number; width: number };

const scoped = ({ regions, actor }: MonitoringScope) => ({ [REGIONS_HEADER]: regions === "*" ? "*" : regions.join(","), [ACTOR_HEADER]: actor.slice(0, 200) });

/**
 * The monitoring service's summary API (services/monitoring/README.md "Summary API") on the
 * kit's client: never raw rows, every answer checked against contracts/monitoring, and every
 * call scoped to the regions of the user it is made for (`x-switchyard-regions`).
 */
export const createMonitoringClient = ({ baseUrl, token, timeoutMs = 10_000 }: MonitoringClientOptions) => {
  const http = createUpstreamClient({
    upstream: "monitoring",
    label: "Monitoring service",
    baseUrl,
    token,
    timeoutMs,
    credentialsHint: "MONITORING_CONSOLE_TOKEN",
    // The live view's feed and snapshot: every region (filtered per user by the routers).
    headers: scoped(SERVICE_SCOPE),
  });
  return {
    http,
    baseUrl: http.url,

    snapshot: (signal?: AbortSignal) => http.get("/api/v1/snapshot", { schema: snapshotSchema, signal, timeoutMs: 60_000 }),
    regions: (scope: MonitoringScope) => http.get("/api/v1/regions", { schema: ZRegionsAnswer, headers: scoped(scope) }),
    sites: (scope: MonitoringScope, region: string) => http.get("/api/v1/regions/:region/sites", { params: { region }, schema: ZSitesAnswer, headers: scoped(scope) }),
    site: (scope: MonitoringScope, region: string, site: string) => http.get("/api/v1/regions/:region/sites/:site", { params: { region, site }, schema: ZSiteAnswer, headers: scoped(scope) }),
    device: (scope: MonitoringScope, region: string, device: string) => http.get("/api/v1/regions/:region/devices/:device", { params: { region, device }, schema: ZDeviceAnswer, headers: scoped(scope) }),
    series: (scope: MonitoringScope, region: string, device: string, { metrics, from, to, width }: SeriesQuery) =>
      http.get("/api/v1/regions/:region/devices/:device/series", { params: { region, device }, query: { metrics: metrics.join(","), from, to, width }, schema: seriesResponseSchema, headers: scoped(scope) }),

    /** Energy per period of one site (MJ per flow: harvest, store.in/out, yield, sell, buy), from the rollups. */
    energy: (scope: MonitoringScope, region: string, site: string, query: { energy: string; period: string; epoch: string; duration: number }) =>
      http.get("/api/v1/regions/:region/sites/:site/energy", { params: { region, site }, query, schema: energyResponseSchema, headers: scoped(scope) }),

    alarms: (scope: MonitoringScope, region: string, query: AlarmQuery = {}) => http.get("/api/v1/regions/:region/alarms", { params: { region }, query, schema: alarmListSchema, headers: scoped(scope) }),
    alarm: (scope: MonitoringScope, region: string, id: string) => http.get("/api/v1/regions/:region/alarms/:id", { params: { region, id }, schema: alarmViewSchema, headers: scoped(scope) }),
    /** Acknowledges or clears one alarm as `scope.actor`; 404 unknown in that region, 409 already done. */
    alarmAction: (scope: MonitoringScope, region: string, id: string, action: AlarmAction, comment: string | undefined, signal?: AbortSignal) =>
      http.post(`/api/v1/regions/:region/alarms/:id/${action}`, { params: { region, id }, body: comment ? { comment } : {}, schema: alarmViewSchema, headers: scoped(scope), signal }),

    flags: (scope: MonitoringScope) => http.get("/api/v1/flags", { schema: featureMessageSchema, headers: scoped(scope) }),
    setFlag: (scope: MonitoringScope, name: FeatureName, enabled: boolean, signal?: AbortSignal) =>
      http.put("/api/v1/flags/:name", { params: { name }, body: { enabled }, schema: featureMessageSchema, headers: scoped(scope), signal }),
  };
};

export type MonitoringClient = ReturnType<typeof createMonitoringClient>;
