import { z } from "zod";
import { ALARM_SEVERITIES, alarmViewSchema } from "./alarms";
import { featureMessageSchema } from "./flags";

/**
 * The monitoring service's summary API for the console (services/monitoring/README.md):
 * latest values, rollups, energy, alarms, sites by region, flags, and a live SSE feed.
 * Never raw rows. Every request carries the console's bearer token, the regions the signed-in
 * user may see (`x-switchyard-regions`; a region outside it is refused with 403) and the
 * actor for the audit log (`x-switchyard-actor`).
 */
export const REGIONS_HEADER = "x-switchyard-regions";
export const ACTOR_HEADER = "x-switchyard-actor";
export const REGION_PATTERN = /^[a-z0-9-]{1,32}$/;

export const SITE_KINDS = ["solar", "building"] as const;

const severityCounts = z.object(Object.fromEntries(ALARM_SEVERITIES.map((s) => [s, z.number()])) as Record<(typeof ALARM_SEVERITIES)[number], z.ZodNumber>);
export const alarmCountsSchema = severityCounts.extend({ total: z.number() });
export type AlarmCounts = z.infer<typeof alarmCountsSchema>;

export const siteViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  kind: z.enum(SITE_KINDS),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  devices: z.number(),
  onlineDevices: z.number(),
  lastSeenAt: z.string().nullable(),
  alarms: alarmCountsSchema,
});
export type SiteView = z.infer<typeof siteViewSchema>;

export const deviceViewSchema = z.object({
  id: z.string(),
  site: z.string(),
  region: z.string(),
  dataset: z.string(),
  lastSeenAt: z.string().nullable(),
  online: z.boolean(),
  /** Decoded status of the last record (bus_connect, charging, …). */
  status: z.record(z.string(), z.unknown()).nullable(),
  /** Latest value of every metric (`battery.volts`, `pack.0241.cell.3.volts`, …). */
  values: z.record(z.string(), z.number()),
  activeAlarms: z.number(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;

export const regionSummarySchema = z.object({ region: z.string(), sites: z.number(), devices: z.number(), onlineDevices: z.number(), alarms: alarmCountsSchema });
export type RegionSummary = z.infer<typeof regionSummarySchema>;

export const GRANULARITIES = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 } as const;
export type Granularity = keyof typeof GRANULARITIES;

export const seriesPointSchema = z.object({ t: z.number(), count: z.number(), avg: z.number(), min: z.number(), max: z.number(), first: z.number(), last: z.number() });
export type SeriesPoint = z.infer<typeof seriesPointSchema>;
export const seriesResponseSchema = z.object({
  region: z.string(),
  device: z.string(),
  from: z.number(),
  to: z.number(),
  /** The rollup read (1m / 1h / 1d) and the point spacing after merging buckets to fit `width`. */
  granularity: z.enum(["1m", "1h", "1d"]),
  stepMs: z.number(),
  series: z.array(z.object({ metric: z.string(), points: z.array(seriesPointSchema) })),
});
export type SeriesResponse = z.infer<typeof seriesResponseSchema>;

/** Series query: metrics (comma-separated), range in epoch ms or ISO, width = at most this many points. */
export const seriesQuerySchema = z.strictObject({
  metrics: z.string().min(1, "name at least one metric").max(2000),
  from: z.string().min(1),
  to: z.string().min(1).optional(),
  width: z.coerce.number().int().min(10, "must be ≥ 10").max(5000, "must be ≤ 5000").default(800),
});

export const ENERGY_FLOWS = ["harvest", "store.in", "store.out", "yield", "sell", "buy"] as const;
export const energyResponseSchema = z.object({
  region: z.string(),
  site: z.string(),
  energy: z.string(),
  period: z.string(),
  unit: z.literal("MJ"),
  items: z.array(z.object({ epoch: z.string(), from: z.string(), to: z.string(), values: z.record(z.string(), z.number()) })),
});
export type EnergyResponse = z.infer<typeof energyResponseSchema>;

export const alarmListSchema = z.object({ items: z.array(alarmViewSchema), nextCursor: z.string().nullable() });

export const snapshotSchema = z.object({
  epoch: z.string(),
  seq: z.number(),
  regions: z.array(regionSummarySchema),
  sites: z.array(siteViewSchema),
  devices: z.array(deviceViewSchema),
  alarms: z.array(alarmViewSchema),
  flags: featureMessageSchema,
});
export type Snapshot = z.infer<typeof snapshotSchema>;

/** SSE event names on `GET /api/v1/events`; data is the schema of the same name. */
export const FEED_EVENTS = { device: deviceViewSchema, alarm: alarmViewSchema, site: siteViewSchema, flags: featureMessageSchema } as const;
export type FeedEventName = keyof typeof FEED_EVENTS;

/** Admin API (service admin token): sites and API keys. */
export const createSiteBodySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, '.', '_' and '-' (1–64)"),
  name: z.string().min(1).max(200),
  region: z.string().regex(REGION_PATTERN, "a region name"),
  kind: z.enum(SITE_KINDS),
  lat: z.number().min(-90).max(90).nullable().optional(),
  lon: z.number().min(-180).max(180).nullable().optional(),
});
export const createKeyBodySchema = z.discriminatedUnion("kind", [
  /** A sender's ingest key: its records belong to this site (and so to its region). */
  z.strictObject({ kind: z.literal("ingest"), site: z.string().min(1), sender: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), ratePerSecond: z.number().positive().max(100_000).optional() }),
  /** A raw-data key for internal teams, limited to these regions. */
  z.strictObject({ kind: z.literal("raw"), name: z.string().min(1).max(100), regions: z.array(z.string().regex(REGION_PATTERN)).min(1) }),
  /** A building gateway's MQTT password (username building-gw:<region>/<building>). */
  z.strictObject({ kind: z.literal("gateway"), site: z.string().min(1) }),
]);
export type CreateKeyBody = z.infer<typeof createKeyBodySchema>;
