import "server-only";
import { z } from "zod";
import {
  ALARM_SEVERITIES,
  alarmListSchema,
  alarmViewSchema,
  deviceViewSchema,
  energyResponseSchema,
  FEATURE_FLAGS,
  FEATURE_NAMES,
  featureMessageSchema,
  regionSummarySchema,
  seriesResponseSchema,
} from "../../../../contracts/monitoring";
import { ZDeviceAnswer, ZSiteAnswer } from "../../../connectors/monitoring/client";
import { ZLiveInput } from "../../live-procedure";
import { ZCursor, ZIdempotencyKey, ZLookupId, zLimit } from "../common.types";

/** A region as a URL or a filter carries it; a malformed one is simply one the user cannot see. */
export const ZRegion = z.string().max(64);
const ZAlarmStatusFilter = z.enum(["active", "cleared", "all"]);

export const ZListRegionsResponseSchema = z.object({ items: z.array(regionSummarySchema) });

/** Sites of the user's regions, live; or of one region, or one site. */
export const ZOnSitesChangeRequestSchema = ZLiveInput.extend({ region: ZRegion.optional(), site: ZLookupId.optional() }).optional();
export const ZGetSiteRequestSchema = z.object({ region: ZRegion, site: ZLookupId });
export const ZGetSiteResponseSchema = ZSiteAnswer;

/** A solar site's energy: the last 6 hours by hour, or the last 7 days by day (today included). */
export const ENERGY_WINDOWS = { hour: { count: 6, ms: 3_600_000 }, day: { count: 7, ms: 86_400_000 } } as const;
export const ZSiteEnergyRequestSchema = z.object({ region: ZRegion, site: ZLookupId, period: z.enum(["hour", "day"]).default("day") });
export const ZSiteEnergyResponseSchema = energyResponseSchema;

/** Devices of one region (one site, or one device), live with their latest values. */
export const ZOnDevicesChangeRequestSchema = ZLiveInput.extend({ region: ZRegion, site: ZLookupId.optional(), device: ZLookupId.optional() });
export const ZGetDeviceRequestSchema = z.object({ region: ZRegion, device: ZLookupId });
export const ZGetDeviceResponseSchema = ZDeviceAnswer;
export const ZDeviceViewSchema = deviceViewSchema;

/** Metric names as the service spells them (`pack.P001.cell.3.volts`, `battery.watts`, `temperature`). */
export const ZMetricName = z.string().regex(/^[A-Za-z0-9_.:-]{1,120}$/, "a metric name (letters, digits, '.', '_', ':' and '-')");
export const ZSeriesRequestSchema = z
  .object({
    region: ZRegion,
    device: ZLookupId,
    metrics: z.array(ZMetricName).min(1, "pick at least one metric").max(16, "at most 16 metrics per chart"),
    /** Epoch milliseconds; `to` defaults to now. */
    from: z.number().int().min(0),
    to: z.number().int().min(0).optional(),
    /** The chart's width in pixels: at most this many points come back (the service picks the bucket). */
    width: z.number().int().min(10, "must be at least 10").max(4000, "must be at most 4000").default(800),
  })
  .superRefine((v, ctx) => {
    if (v.to !== undefined && v.to <= v.from) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after the start" });
  });
export const ZSeriesResponseSchema = seriesResponseSchema;

export const ZListAlarmsRequestSchema = z.object({
  region: ZRegion.optional(),
  status: ZAlarmStatusFilter.default("active"),
  site: z.string().max(64).optional(),
  device: z.string().max(200).optional(),
  severity: z.enum(ALARM_SEVERITIES).optional(),
  cursor: ZCursor,
  limit: zLimit(200),
});
export const ZListAlarmsResponseSchema = alarmListSchema;
/** Active alarms of the user's regions, live (a cleared alarm is removed). */
export const ZOnAlarmsChangeRequestSchema = ZLiveInput.extend({ region: ZRegion.optional(), site: ZLookupId.optional(), device: ZLookupId.optional() }).optional();
export const ZAlarmViewSchema = alarmViewSchema;

export const ZAlarmActionRequestSchema = z.object({
  region: ZRegion,
  alarmId: ZLookupId,
  comment: z.string().trim().max(500, "Use at most 500 characters.").optional(),
  idempotencyKey: ZIdempotencyKey,
});

export const ZFlagsResponseSchema = z.object({
  message: featureMessageSchema,
  catalogue: z.array(z.object({ name: z.enum(FEATURE_NAMES), description: z.string(), default: z.boolean() })),
});
export const ZSetFlagRequestSchema = z.object({ name: z.enum(FEATURE_NAMES), enabled: z.boolean(), idempotencyKey: ZIdempotencyKey });
export const FLAG_CATALOGUE = FEATURE_NAMES.map((name) => ({ name, description: FEATURE_FLAGS[name].description, default: FEATURE_FLAGS[name].default as boolean }));

