import type http from "node:http";
import { HttpError, parseInput, readJsonBody, sendJson, type RouteHandler } from "../../lib/http";
import {
  ACTOR_HEADER,
  alarmActionBodySchema,
  ALARM_SEVERITIES,
  FEATURE_NAMES,
  formatEpoch,
  isPeriod,
  parseEpoch,
  periodRange,
  PERIOD_MAX_DURATION,
  REGIONS_HEADER,
  seriesQuerySchema,
  setFlagBodySchema,
  type FeatureName,
  type Snapshot,
} from "../../../contracts/monitoring";
import { z } from "zod";
import { pickGranularity, toPoints } from "../storage/rollups";
import { energyTotals, ENERGY_SELECTORS } from "../storage/energy";
import { deviceView, regionSummary, siteView } from "./views";
import type { MonitoringCore, RegionRuntime } from "../runtime";
import { alarmCursorSchema, decodeCursor, encodeCursor } from "./cursor";

/**
 * The console's summary API (README "Summary API"). Summaries only: latest values, rollups,
 * energy, alarms, sites — never a raw row. The caller names the user's regions in
 * `x-switchyard-regions` (`*` = every region this service stores, for the connector's own
 * process-wide view); a region outside them is 403. Every call is audited.
 */
const header = (req: http.IncomingMessage, name: string) => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim();
};

export const allowedRegions = (core: MonitoringCore, req: http.IncomingMessage) => {
  const raw = header(req, REGIONS_HEADER);
  if (raw === undefined) throw new HttpError(400, "regions_required", `send the user's regions in ${REGIONS_HEADER} (comma-separated, or * for all)`);
  if (raw === "*") return [...core.regions.keys()];
  return raw.split(",").map((r) => r.trim()).filter((r) => core.regions.has(r));
};

const actorOf = (req: http.IncomingMessage) => header(req, ACTOR_HEADER)?.slice(0, 200) || "console";

const parseTime = (raw: string, what: string) => {
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new HttpError(400, "invalid_input", `invalid ${what}`, [{ path: `query.${what}`, message: "must be epoch milliseconds or an ISO 8601 date-time" }]);
  return n;
};

const alarmsQuery = z.strictObject({
  status: z.enum(["active", "cleared", "all"]).default("active"),
  site: z.string().max(64).optional(),
  device: z.string().max(200).optional(),
  severity: z.enum(ALARM_SEVERITIES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});
const energyQuery = z.strictObject({ energy: z.string().default("hsy"), period: z.string().default("day"), epoch: z.string().optional(), duration: z.coerce.number().int().default(1) });

type Route = (method: string, path: string, handler: RouteHandler) => void;

export const registerSummaryRoutes = (route: Route, core: MonitoringCore) => {
  /** The region of the path, if this service stores it and the caller may see it. */
  const regionFor = (req: http.IncomingMessage, region: string): RegionRuntime => {
    const rt = core.regions.get(region);
    if (!rt) throw new HttpError(404, "unknown_region", `this service does not store region ${region}`);
    if (!allowedRegions(core, req).includes(region)) throw new HttpError(403, "region_forbidden", `the user may not see region ${region}`);
    return rt;
  };
  const audited = (action: string, handler: (ctx: Parameters<RouteHandler>[0], audit: (region: string | null, target: string | null, status?: number) => void) => Promise<void>): RouteHandler => async (ctx) => {
    const actor = actorOf(ctx.req);
    let logged = false;
    const audit = (region: string | null, target: string | null, status = 200) => {
      logged = true;
      core.audit({ api: "summary", actor, region, action, target, status, detail: Object.keys(ctx.query).length ? ctx.query : null });
    };
    try {
      await handler(ctx, audit);
    } catch (error) {
      if (!logged) audit(ctx.params[0] ?? null, ctx.params[1] ?? null, error instanceof HttpError ? error.status : 503);
      throw error;
    }
  };

  route("GET", "/api/v1/regions", audited("regions.list", async ({ req, res }, audit) => {
    const allowed = allowedRegions(core, req);
    audit(null, allowed.join(","));
    sendJson(res, 200, { items: allowed.map((r) => regionSummary(core.regions.get(r)!.view, core.registry.sitesIn(r))) });
  }));

  route("GET", "/api/v1/regions/:region/sites", audited("sites.list", async ({ req, res, params }, audit) => {
    const rt = regionFor(req, params[0]);
    audit(rt.region, null);
    sendJson(res, 200, { items: core.registry.sitesIn(rt.region).map((s) => siteView(rt.view, s)) });
  }));

  route("GET", "/api/v1/regions/:region/sites/:site", audited("sites.get", async ({ req, res, params }, audit) => {
    const rt = regionFor(req, params[0]);
    const site = core.registry.site(params[1]);
    if (!site || site.region !== rt.region) throw new HttpError(404, "not_found", `no site ${params[1]} in ${rt.region}`);
    audit(rt.region, site.id);
    const devices = [...rt.latest.all()].filter((d) => d.site === site.id).map((d) => deviceView(rt.view, d));
    sendJson(res, 200, { site: siteView(rt.view, site), devices });
  }));

  route("GET", "/api/v1/regions/:region/devices/:device", audited("devices.get", async ({ req, res, params }, audit) => {
    const rt = regionFor(req, params[0]);
    const d = rt.latest.get(params[1]);
    if (!d) throw new HttpError(404, "not_found", `no device ${params[1]} in ${rt.region}`);
    audit(rt.region, d.id);
    sendJson(res, 200, { device: deviceView(rt.view, d), metrics: Object.keys(d.values).sort(), alarms: [...rt.alarms.active()].filter((a) => a.device === d.id) });
  }));

  route("GET", "/api/v1/regions/:region/devices/:device/series", audited("devices.series", async ({ req, res, params, query }, audit) => {
    const rt = regionFor(req, params[0]);
    const q = parseInput(seriesQuerySchema, query, "query");
    const device = params[1];
    const from = parseTime(q.from, "from");
    const to = q.to ? parseTime(q.to, "to") : Date.now();
    if (to <= from) throw new HttpError(400, "invalid_input", "to must be after from", [{ path: "query.to", message: "must be after from" }]);
    if (to - from > 3660 * 86_400_000) throw new HttpError(400, "invalid_input", "at most 10 years per query", [{ path: "query.from", message: "range longer than 10 years" }]);
    const metrics = [...new Set(q.metrics.split(",").map((m) => m.trim()).filter(Boolean))];
    if (metrics.length > 32) throw new HttpError(400, "invalid_input", "at most 32 metrics per query", [{ path: "query.metrics", message: "at most 32 metrics" }]);
    audit(rt.region, device);
    const { g, stepMs } = pickGranularity(from, to, q.width);
    const buckets = await rt.rollups.read({ g, device, metrics, from: Math.floor(from / stepMs) * stepMs, to });
    sendJson(res, 200, { region: rt.region, device, from, to, granularity: g, stepMs, series: metrics.map((metric) => ({ metric, points: toPoints(buckets.get(metric)!, stepMs) })) });
  }));

  route("GET", "/api/v1/regions/:region/sites/:site/energy", audited("sites.energy", async ({ req, res, params, query }, audit) => {
    const rt = regionFor(req, params[0]);
    const site = core.registry.site(params[1]);
    if (!site || site.region !== rt.region) throw new HttpError(404, "not_found", `no site ${params[1]} in ${rt.region}`);
    const q = parseInput(energyQuery, query, "query");
    if (!ENERGY_SELECTORS[q.energy]) throw new HttpError(400, "invalid_input", "unknown energy", [{ path: "query.energy", message: `must be one of ${Object.keys(ENERGY_SELECTORS).join(", ")}` }]);
    if (!isPeriod(q.period) || q.period === "instant" || q.period === "second") throw new HttpError(400, "invalid_input", "unknown period", [{ path: "query.period", message: "must be minute, qtrhour, hour, timeofday, day, week, month, quarter, year or fiveyear" }]);
    const epoch = parseEpoch(q.epoch ?? formatEpoch(Date.now(), 0));
    if ("error" in epoch) throw new HttpError(400, "invalid_input", "invalid epoch", [{ path: "query.epoch", message: epoch.error }]);
    if (q.duration === 0 || Math.abs(q.duration) > PERIOD_MAX_DURATION[q.period]) throw new HttpError(400, "invalid_input", "invalid duration", [{ path: "query.duration", message: `must be ±1…${PERIOD_MAX_DURATION[q.period]} for ${q.period}` }]);
    audit(rt.region, site.id);
    const range = periodRange(q.period, epoch, q.duration);
    const totals = await energyTotals(rt.store.read, { site: site.id, energy: q.energy, period: q.period, starts: range.starts, to: range.to });
    sendJson(res, 200, {
      region: rt.region, site: site.id, energy: q.energy, period: q.period, unit: "MJ",
      items: range.starts.map((start, i) => ({ epoch: formatEpoch(start, range.offsetMinutes), from: new Date(start).toISOString(), to: new Date(range.starts[i + 1] ?? range.to).toISOString(), values: totals[i] })),
    });
  }));

  route("GET", "/api/v1/regions/:region/alarms", audited("alarms.list", async ({ req, res, params, query }, audit) => {
    const rt = regionFor(req, params[0]);
    const q = parseInput(alarmsQuery, query, "query");
    const cursor = decodeCursor(q.cursor, alarmCursorSchema);
    audit(rt.region, q.site ?? q.device ?? null);
    const page = await rt.alarms.list({ status: q.status, site: q.site, device: q.device, severity: q.severity, limit: q.limit, cursor });
    sendJson(res, 200, { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
  }));

  route("GET", "/api/v1/regions/:region/alarms/:id", audited("alarms.get", async ({ req, res, params }, audit) => {
    const rt = regionFor(req, params[0]);
    const alarm = await rt.alarms.get(params[1]);
    if (!alarm) throw new HttpError(404, "not_found", `no alarm ${params[1]} in ${rt.region}`);
    audit(rt.region, alarm.id);
    sendJson(res, 200, alarm);
  }));

  for (const action of ["acknowledge", "clear"] as const) {
    route("POST", `/api/v1/regions/:region/alarms/:id/${action}`, audited(`alarms.${action}`, async ({ req, res, params }, audit) => {
      const rt = regionFor(req, params[0]);
      const body = parseInput(alarmActionBodySchema, (await readJsonBody(req)) ?? {}, "body");
      const actor = actorOf(req);
      const alarm = action === "acknowledge" ? await rt.alarms.acknowledge(params[1], actor, body.comment ?? null) : await rt.alarms.clear(params[1], actor, body.comment ?? null);
      audit(rt.region, alarm.id);
      sendJson(res, 200, alarm);
    }));
  }

  route("GET", "/api/v1/flags", audited("flags.get", async ({ res }, audit) => {
    audit(null, null);
    sendJson(res, 200, core.flags.message());
  }));
  route("PUT", "/api/v1/flags/:name", audited("flags.set", async ({ req, res, params }, audit) => {
    if (!(FEATURE_NAMES as string[]).includes(params[0])) throw new HttpError(404, "unknown_flag", `no flag ${params[0]} (${FEATURE_NAMES.join(", ")})`);
    const body = parseInput(setFlagBodySchema, await readJsonBody(req), "body");
    const message = await core.flags.set(params[0] as FeatureName, body.enabled, actorOf(req));
    audit(null, params[0]);
    sendJson(res, 200, message);
  }));

  route("GET", "/api/v1/snapshot", audited("snapshot", async ({ req, res }, audit) => {
    const regions = allowedRegions(core, req);
    audit(null, regions.join(","));
    const seq = core.feed.seq();
    const runtimes = regions.map((r) => core.regions.get(r)!);
    const snapshot: Snapshot = {
      epoch: core.feed.epoch,
      seq,
      regions: runtimes.map((rt) => regionSummary(rt.view, core.registry.sitesIn(rt.region))),
      sites: runtimes.flatMap((rt) => core.registry.sitesIn(rt.region).map((s) => siteView(rt.view, s))),
      devices: runtimes.flatMap((rt) => [...rt.latest.all()].map((d) => deviceView(rt.view, d))),
      alarms: runtimes.flatMap((rt) => [...rt.alarms.active()]),
      flags: core.flags.message(),
    };
    sendJson(res, 200, snapshot);
  }));

  route("GET", "/api/v1/events", audited("events", async ({ req, res }, audit) => {
    const regions = allowedRegions(core, req);
    audit(null, regions.join(","));
    const last = req.headers["last-event-id"];
    core.feed.serve(req, res, regions, Array.isArray(last) ? last[0] : last);
  }));
};
