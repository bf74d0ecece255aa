import { createHash } from "node:crypto";
import type http from "node:http";
import type pino from "pino";
import type { Counter } from "prom-client";
import { HttpError, readRawBody, sendJson, type RouteContext } from "../../lib/http";
import { formatEpoch, isDataset, monitoringTopic, parseTimeLocal, DEVICE_ID_FIELD, DATASETS, type Dataset, type DatasetBody, type DatasetMessage, type FeatureFlags } from "../../../contracts/monitoring";
import { BrokerBusyError, type Broker } from "../messaging/broker";
import type { Registry } from "../registry";
import { recordKey } from "../transform/derive-records";
import { parseCsvBody, parseJsonBody, type TimeRules } from "./parse-body";
import { createBucket, type Bucket } from "./token-bucket";

/**
 * `POST /devices/dataset/:dataset` (Sundaya Devices API). Order of refusals, cheapest first,
 * so a flooding sender costs little and never delays the others: unknown key 401 → over its
 * request rate 429 (before the body is read) → body over the limit 413 → unreadable body 400
 * → over its record rate 429 (nothing stored) → broker full 503. Then the batch rule applies
 * (parse-body.ts). 200 = queued; with `?sync=true`, 201 once stored, with a Location per device.
 */
export type IngestOptions = {
  registry: Registry;
  brokers: Map<string, Broker>;
  flags: () => FeatureFlags;
  log: pino.Logger;
  maxBodyBytes: number;
  maxFutureMs: number;
  maxAgeMs: number;
  /** Per key unless the key says otherwise. */
  requestsPerSecond: number;
  recordsPerSecond: number;
  syncTimeoutMs: number;
  publicUrl: () => string;
  /** Checks the store when a synchronous request's records were written by another process. */
  isStored: (region: string, keys: { dataset: string; device: string; part: string; timeEvent: number }[]) => Promise<boolean>;
  /** The site a device belongs to (the first that reported it), when this process knows; the consumer drops other sites' records either way. */
  deviceSite?: (region: string, device: string) => string | undefined;
  counters: { requests: Counter<"outcome">; records: Counter<"outcome" | "dataset"> };
};

const MAX_LISTED_ISSUES = 200;

export const createIngest = (o: IngestOptions) => {
  const buckets = new Map<string, { requests: Bucket; records: Bucket }>();
  const waiters = new Map<string, Set<() => void>>();

  const bucketsOf = (keyId: string, ratePerSecond: number | null) => {
    let b = buckets.get(keyId);
    if (!b) {
      const records = ratePerSecond ?? o.recordsPerSecond;
      b = { requests: createBucket({ perSecond: Math.max(o.requestsPerSecond, records / 100), burst: Math.max(2 * o.requestsPerSecond, records / 50) }), records: createBucket({ perSecond: records, burst: 2 * records }) };
      buckets.set(keyId, b);
    }
    return b;
  };

  /** Called by the pipeline with every key it wrote (new or duplicate). */
  const written = (keys: string[]) => {
    for (const k of keys) {
      const set = waiters.get(k);
      if (!set) continue;
      waiters.delete(k);
      for (const fn of set) fn();
    }
  };

  const waitStored = (region: string, keys: { dataset: string; device: string; part: string; timeEvent: number }[]) =>
    new Promise<boolean>((resolve) => {
      const names = [...new Set(keys.map(recordKey))];
      let left = names.length;
      const done = () => {
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      for (const k of names) {
        let set = waiters.get(k);
        if (!set) waiters.set(k, (set = new Set()));
        set.add(done);
      }
      // Another consumer replica may have written them: ask the store before giving up.
      const timer = setTimeout(() => {
        for (const k of names) waiters.get(k)?.delete(done);
        void o.isStored(region, keys).then(resolve, () => resolve(false));
      }, o.syncTimeoutMs);
    });

  const handle = async ({ req, res, params, query }: RouteContext) => {
    const refuse = (outcome: string, error: HttpError, headers: Record<string, string> = {}) => {
      o.counters.requests.inc({ outcome });
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      return error;
    };
    const key = o.registry.lookup(headerOf(req, "x-api-key"));
    if (!key || key.kind !== "ingest") throw refuse("unauthorized", new HttpError(401, "unauthorized", "missing or unknown x-api-key"));
    const dataset = params[0];
    if (!isDataset(dataset)) throw refuse("bad_dataset", new HttpError(404, "unknown_dataset", `no dataset "${dataset}": use ${DATASETS.join(", ")} (case-sensitive)`));
    const site = o.registry.site(key.site!);
    if (!site) throw refuse("unauthorized", new HttpError(401, "unauthorized", "the key's site no longer exists"));
    const broker = o.brokers.get(site.region);
    if (!broker) throw refuse("unavailable", new HttpError(503, "region_unavailable", `this service does not serve region ${site.region}`));
    const limits = bucketsOf(key.id, key.ratePerSecond);
    if (!limits.requests.take()) {
      req.resume();
      throw refuse("rate_limited", new HttpError(429, "rate_limited", "too many requests from this sender; slow down"), { "retry-after": String(limits.requests.waitFor()) });
    }
    const raw = await readRawBody(req, o.maxBodyBytes).catch((error: unknown) => {
      throw refuse("too_large", error as HttpError);
    });
    const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json" && type !== "text/csv") throw refuse("bad_media_type", new HttpError(415, "unsupported_media_type", "send application/json ({\"datasets\": [...]}) or text/csv"));
    const now = Date.now();
    const rules: TimeRules = { now, maxFutureMs: o.maxFutureMs, maxAgeMs: o.maxAgeMs };
    const deep = o.flags().validation;
    let parsed;
    try {
      parsed = type === "text/csv" ? parseCsvBody(dataset, raw.toString("utf8"), rules, deep) : parseJsonBody(dataset, raw.toString("utf8"), rules, deep);
    } catch (error) {
      throw refuse("invalid", error as HttpError);
    }
    const idField = DEVICE_ID_FIELD[dataset] as string;
    const deviceOf = (ds: DatasetBody[Dataset]) => (ds as unknown as Record<string, string>)[idField];
    if (o.deviceSite) {
      // Another site's device: refused like an invalid record (its site's data stays its own).
      parsed.datasets = parsed.datasets.filter((ds) => {
        const owner = o.deviceSite!(site.region, deviceOf(ds));
        if (owner === undefined || owner === site.id) return true;
        parsed.rejected += ds.data.length;
        parsed.issues.push({ path: idField, message: `device ${deviceOf(ds)} belongs to another site, not to ${site.id} (this key's site)` });
        return false;
      });
    }
    const accepted = parsed.total - parsed.rejected;
    if (accepted > 0 && !limits.records.take(accepted)) {
      throw refuse("rate_limited", new HttpError(429, "rate_limited", `this sender is over its ${key.ratePerSecond ?? o.recordsPerSecond} records/s; nothing was stored`), { "retry-after": String(limits.records.waitFor(accepted)) });
    }
    o.counters.records.inc({ outcome: "rejected", dataset }, parsed.rejected);

    const sync = query.sync === "true" || query.sync === "1";
    const message = (body: DatasetBody[Dataset]): DatasetMessage => ({ v: 1, region: site.region, site: site.id, sender: key.sender!, receivedAt: now, dataset, body } as DatasetMessage);
    const keys = sync ? parsed.datasets.flatMap((ds) => ds.data.map((item) => storedKeyOf(dataset, deviceOf(ds), item as { time_local: string; pack?: { id: string } }))) : [];
    const stored = sync && keys.length ? waitStored(site.region, keys) : undefined;
    if (parsed.datasets.length) {
      try {
        await broker.publish(
          monitoringTopic(dataset),
          parsed.datasets.map((ds) => {
            const value = message(ds);
            // The de-duplication id only means something to a broker that keeps a window (NATS).
            return { key: deviceOf(ds), value, id: broker.kind === "nats" ? createHash("sha256").update(JSON.stringify(ds)).digest("base64url") : undefined };
          }),
        );
      } catch (error) {
        if (error instanceof BrokerBusyError) throw refuse("busy", new HttpError(503, "busy", `${error.message}; retry shortly`), { "retry-after": "1" });
        throw error;
      }
    }
    o.counters.records.inc({ outcome: "accepted", dataset }, accepted);

    if (parsed.issues.length) {
      o.counters.requests.inc({ outcome: "partial" });
      if (stored) await stored;
      const fields = parsed.issues.slice(0, MAX_LISTED_ISSUES);
      const more = parsed.issues.length - fields.length;
      sendJson(res, 400, {
        error: "invalid_input",
        message: `${parsed.rejected} of ${parsed.total} records rejected${accepted ? `; the other ${accepted} were ${sync ? "stored" : "queued"}` : ""}${more > 0 ? ` (${more} more problems not listed)` : ""}`,
        accepted,
        rejected: parsed.rejected,
        fields,
      });
      return;
    }
    if (sync) {
      const ok = await stored;
      if (!ok) throw refuse("timeout", new HttpError(504, "not_stored_yet", `queued but not stored within ${o.syncTimeoutMs} ms; it will be stored (resending is harmless)`));
      o.counters.requests.inc({ outcome: "created" });
      const perDevice = new Map<string, { events: number; first: string }>();
      for (const ds of parsed.datasets) {
        const d = perDevice.get(deviceOf(ds)) ?? { events: 0, first: ds.data[0].time_local };
        d.events += ds.data.length;
        perDevice.set(deviceOf(ds), d);
      }
      const locations = [...perDevice.entries()].map(([device, d]) => {
        const t = parseTimeLocal(d.first) as { utcMs: number; offsetMinutes: number };
        return `${o.publicUrl()}/device/${encodeURIComponent(device)}/dataset/${dataset}/period/minute/${formatEpoch(Math.floor(t.utcMs / 60_000) * 60_000, t.offsetMinutes)}/1?region=${site.region}`;
      });
      res.setHeader("location", locations);
      sendJson(res, 201, {
        status: "201",
        message: "Created",
        details: [...perDevice.entries()].map(([device, d]) => ({ message: "New data events created.", target: `device:${device} | dataset:${dataset} | events:${d.events}` })),
      });
      return;
    }
    o.counters.requests.inc({ outcome: "queued" });
    sendJson(res, 200, { status: "200", message: "ok", details: [{ message: "Data queued for processing.", target: `dataset:${dataset} | ${parsed.datasets.length} datasets | ${accepted} records` }] });
  };

  return { handle, written, waiting: () => waiters.size };
};

const headerOf = (req: http.IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const storedKeyOf = (dataset: Dataset, device: string, item: { time_local: string; pack?: { id: string } }) => {
  const t = parseTimeLocal(item.time_local) as { utcMs: number };
  return { dataset, device, part: dataset === "pms" ? item.pack!.id : "", timeEvent: t.utcMs };
};
