import type http from "node:http";
import { z } from "zod";
import { HttpError, parseInput, sendJson, type RouteHandler } from "../../lib/http";
import { formatEpoch, isPeriod, parseEpoch, periodRange, PERIOD_MAX_DURATION, type Period } from "../../../contracts/monitoring";
import { readDeviceSamples } from "../storage/landing-zone";
import { energyTotals, ENERGY_SELECTORS } from "../storage/energy";
import type { ApiKey } from "../registry";
import { decodeCursor, encodeCursor, sampleCursorSchema } from "./cursor";
import type { MonitoringCore, RegionRuntime } from "../runtime";

/**
 * The raw-data API for internal teams (Sundaya Devices / Energy GET routes), with
 * region-scoped keys (`x-api-key` of kind raw): the stored records themselves, as JSON or
 * CSV (flattened columns), keyset-paged. A request reads one region — `?region=` when the key
 * has several — and never another. Every call is audited.
 */
const RAW_DATASETS = ["pms", "mppt", "inverter", "building"];
const rawQuery = z.strictObject({
  region: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  cursor: z.string().max(300).optional(),
  format: z.enum(["json", "csv"]).optional(),
  site: z.string().max(64).optional(),
});

const flatten = (value: unknown, prefix = "", out: Record<string, unknown> = {}) => {
  if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${prefix}.${i + 1}`, out));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = value;
  return out;
};
const csvCell = (v: unknown) => {
  let s = v === null || v === undefined ? "" : String(v);
  // Spreadsheet formula injection: a cell must not start with = + - @ unless it is a number.
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?\d/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

const headerOf = (req: http.IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

type Route = (method: string, path: string, handler: RouteHandler) => void;

export const registerRawRoutes = (route: Route, core: MonitoringCore) => {
  const keyOf = (req: http.IncomingMessage): ApiKey => {
    const key = core.registry.lookup(headerOf(req, "x-api-key"));
    if (!key || key.kind !== "raw") throw new HttpError(401, "unauthorized", "missing or unknown x-api-key (a raw-data key)");
    return key;
  };
  const regionOf = (key: ApiKey, asked: string | undefined): RegionRuntime => {
    const region = asked ?? (key.regions.length === 1 ? key.regions[0] : undefined);
    if (!region) throw new HttpError(400, "region_required", `this key reads ${key.regions.join(", ")}: name one with ?region=`);
    if (!key.regions.includes(region)) throw new HttpError(403, "region_forbidden", `this key may not read region ${region}`);
    const rt = core.regions.get(region);
    if (!rt) throw new HttpError(404, "unknown_region", `this service does not store region ${region}`);
    return rt;
  };
  const rangeOf = (periodRaw: string, epochRaw: string, durationRaw: string) => {
    if (!isPeriod(periodRaw)) throw new HttpError(400, "invalid_input", "unknown period", [{ path: "period", message: "must be instant, second, minute, qtrhour, hour, timeofday, day, week, month, quarter, year or fiveyear" }]);
    const period: Period = periodRaw;
    const epoch = parseEpoch(epochRaw);
    if ("error" in epoch) throw new HttpError(400, "invalid_input", "invalid epoch", [{ path: "epoch", message: epoch.error }]);
    const duration = Number(durationRaw);
    if (!Number.isInteger(duration) || duration === 0 || Math.abs(duration) > PERIOD_MAX_DURATION[period]) throw new HttpError(400, "invalid_input", "invalid duration", [{ path: "duration", message: `must be a non-zero integer within ±${PERIOD_MAX_DURATION[period]} for ${period}` }]);
    return { period, epoch, duration, range: periodRange(period, epoch, duration) };
  };
  const audited = (action: string, handler: (ctx: Parameters<RouteHandler>[0], key: ApiKey, audit: (region: string, target: string) => void) => Promise<void>): RouteHandler => async (ctx) => {
    const key = keyOf(ctx.req);
    let where: { region: string; target: string } | undefined;
    try {
      await handler(ctx, key, (region, target) => (where = { region, target }));
      core.audit({ api: "raw", actor: `key:${key.name}`, region: where?.region ?? null, action, target: where?.target ?? null, status: 200, detail: ctx.query });
    } catch (error) {
      core.audit({ api: "raw", actor: `key:${key.name}`, region: where?.region ?? null, action, target: ctx.params.join("/"), status: error instanceof HttpError ? error.status : 503, detail: ctx.query });
      throw error;
    }
  };

  route("GET", "/device/:device/dataset/:dataset/period/:period/:epoch/:duration", audited("device.read", async ({ req, res, params, query }, key, audit) => {
    const [device, dataset, periodRaw, epochRaw, durationRaw] = params;
    const q = parseInput(rawQuery, query, "query");
    if (!RAW_DATASETS.includes(dataset)) throw new HttpError(404, "unknown_dataset", `no dataset "${dataset}": use ${RAW_DATASETS.join(", ")}`);
    const rt = regionOf(key, q.region);
    const { period, duration, range } = rangeOf(periodRaw, epochRaw, durationRaw);
    audit(rt.region, device);
    const after = decodeCursor(q.cursor, sampleCursorSchema);
    const page = await readDeviceSamples(rt.store.read, { dataset, device, from: range.from, to: range.to, limit: q.limit, after });
    const nextCursor = page.next ? encodeCursor(page.next) : null;
    const csv = q.format === "csv" || (q.format === undefined && (req.headers.accept ?? "").includes("text/csv"));
    if (csv) {
      const rows = page.items.map((r) => flatten(r.record));
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const text = [columns.join(","), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(","))].join("\n");
      res.writeHead(200, { "content-type": "text/csv; charset=utf-8", "cache-control": "no-store", ...(nextCursor ? { "x-next-cursor": nextCursor } : {}) });
      res.end(`${text}\n`);
      return;
    }
    sendJson(res, 200, {
      region: rt.region, device, dataset, period, epoch: formatEpoch(range.from, range.offsetMinutes), duration,
      from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(),
      items: page.items.map((r) => r.record), nextCursor,
    });
  }));

  route("GET", "/energy/:energy/period/:period/:epoch/:duration", audited("energy.read", async ({ res, params, query }, key, audit) => {
    const [energy, periodRaw, epochRaw, durationRaw] = params;
    const q = parseInput(rawQuery, query, "query");
    if (!ENERGY_SELECTORS[energy]) throw new HttpError(404, "unknown_energy", `no energy "${energy}": use ${Object.keys(ENERGY_SELECTORS).join(", ")}`);
    const rt = regionOf(key, q.region);
    if (!q.site) throw new HttpError(400, "invalid_input", "name the site", [{ path: "query.site", message: "is required" }]);
    const site = core.registry.site(q.site);
    if (!site || site.region !== rt.region) throw new HttpError(404, "not_found", `no site ${q.site} in ${rt.region}`);
    const { period, duration, range } = rangeOf(periodRaw, epochRaw, durationRaw);
    audit(rt.region, site.id);
    const totals = await energyTotals(rt.store.read, { site: site.id, energy, period, starts: range.starts, to: range.to });
    sendJson(res, 200, {
      region: rt.region, site: site.id, energy, period, duration, unit: "MJ",
      items: range.starts.map((start, i) => ({ epoch: formatEpoch(start, range.offsetMinutes), from: new Date(start).toISOString(), to: new Date(range.starts[i + 1] ?? range.to).toISOString(), values: totals[i] })),
    });
  }));
};
