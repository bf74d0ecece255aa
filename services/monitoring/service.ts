import http from "node:http";
import type pino from "pino";
import { Counter, Gauge } from "prom-client";
import { closeServer, listen, urlHost, withTimeout } from "../../lib/net";
import { bearerToken, createRouter, parseInput, readJsonBody, sameSecret, sendJson, type RouteHandler } from "../lib/http";
import { createOpsHandler, createRegistry as createMetricsRegistry } from "../lib/ops";
import { createBatcher } from "../csms/manager/batch";
import { createKeyBodySchema, createSiteBodySchema } from "../../contracts/monitoring";
import { createAlarmEngine } from "./alarms/alarm-engine";
import { DEFAULT_THRESHOLDS, type AlarmThresholds } from "./alarms/rules";
import { createFeed } from "./api/feed";
import { registerRawRoutes } from "./api/raw-api";
import { registerSummaryRoutes } from "./api/summary-api";
import { deviceView, siteView } from "./api/views";
import { createFlags } from "./flags";
import { startBuildingIngest } from "./ingest/building-ingest";
import { createIngest } from "./ingest/http-ingest";
import type { Broker } from "./messaging/broker";
import { createInProcessBroker } from "./messaging/in-process-broker";
import { createNatsBroker } from "./messaging/nats-broker";
import { createRegionPipeline } from "./messaging/pipeline";
import { createRegistry } from "./registry";
import type { AuditEntry, MonitoringCore, RegionRuntime } from "./runtime";
import { createLatestValues } from "./storage/latest-values";
import { pruneSamples } from "./storage/landing-zone";
import { openRegionStore, type RegionStore } from "./storage/region-store";
import { openSampleWriter } from "./storage/sample-writer";
import { createRollups } from "./storage/rollups";

/**
 * The monitoring service (services/monitoring/README.md): HTTP ingest and building MQTT
 * ingest → broker (in-process or NATS JetStream) → per-region pipelines into per-region
 * stores → summary API + live feed for the console, raw-data API for internal teams.
 * `role` splits it: `ingest` only accepts and publishes, `consumer` only consumes and serves
 * the read APIs, `all` (default) does both; split roles need NATS.
 */
export type MonitoringOptions = {
  host?: string;
  port?: number;
  regions: string[];
  /** Per region: postgres://… or memory://; unset → PGlite in `<dataDir>/monitoring-<region>`. */
  regionDatabases?: Record<string, string | undefined>;
  dataDir: string;
  broker?: { kind: "in-process"; maxQueued?: number } | { kind: "nats"; url: string; urls?: Record<string, string | undefined>; subjectPrefix?: string; streamPrefix?: string; ackWaitMs?: number; user?: string; pass?: string };
  role?: "all" | "ingest" | "consumer";
  consoleToken: string;
  adminToken: string;
  mqtt?: { url: string; username?: string; password?: string; shareGroup?: string };
  publicUrl?: string;
  maxBodyBytes?: number;
  maxClockSkewMs?: number;
  rawRetentionDays?: number;
  rollup1mRetentionDays?: number;
  rollup1hRetentionDays?: number;
  recordsPerSecond?: number;
  requestsPerSecond?: number;
  gatewayMessagesPerSecond?: number;
  reportIntervalMs?: number;
  silentIntervals?: number;
  syncTimeoutMs?: number;
  feedCoalesceMs?: number;
  rollupFlushMs?: { "1m"?: number; "1h"?: number; "1d"?: number };
  /** PostgreSQL stores: connections inserting landing-zone batches concurrently (PGlite: its one). */
  insertConnections?: number;
  thresholds?: AlarmThresholds;
  log: pino.Logger;
};

export type MonitoringService = {
  url: string;
  core: MonitoringCore;
  /** Waits until everything accepted so far is stored and flushed (tests, benchmarks). */
  flush: () => Promise<void>;
  close: () => Promise<void>;
};

const natsName = (s: string) => s.toUpperCase().replaceAll(/[^A-Z0-9]/g, "_");

export const startMonitoring = async (o: MonitoringOptions): Promise<MonitoringService> => {
  const log = o.log;
  const role = o.role ?? "all";
  const brokerConfig = o.broker ?? { kind: "in-process" as const };
  if (role !== "all" && brokerConfig.kind === "in-process") throw new Error(`role ${role} needs MONITORING_BROKER=nats: the in-process broker cannot cross processes`);
  const consumes = role !== "ingest";
  const ingests = role !== "consumer";
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await withTimeout(fn(), 5000).catch((error: unknown) => log.warn({ err: (error as Error).message }, "monitoring shutdown step failed"));
  };
  try {
    const metrics = createMetricsRegistry();
    const counters = {
      requests: new Counter({ name: "monitoring_ingest_requests_total", help: "Ingest requests by outcome", labelNames: ["outcome"] as const, registers: [metrics] }),
      records: new Counter({ name: "monitoring_ingest_records_total", help: "Posted records accepted or rejected", labelNames: ["outcome", "dataset"] as const, registers: [metrics] }),
      building: new Counter({ name: "monitoring_building_messages_total", help: "Building telemetry messages by outcome", labelNames: ["outcome"] as const, registers: [metrics] }),
      consumed: new Counter({ name: "monitoring_consumed_messages_total", help: "Broker messages consumed", labelNames: ["region", "dataset"] as const, registers: [metrics] }),
      stored: new Counter({ name: "monitoring_stored_records_total", help: "New records written to the landing zone", labelNames: ["region", "dataset"] as const, registers: [metrics] }),
      invalid: new Counter({ name: "monitoring_invalid_messages_total", help: "Broker messages dropped by the consumer", labelNames: ["region", "reason"] as const, registers: [metrics] }),
    };

    // ---- stores and brokers, one of each per region ----
    const stores = new Map<string, RegionStore>();
    const brokers = new Map<string, Broker>();
    for (const region of o.regions) {
      const store = await openRegionStore({ region, databaseUrl: o.regionDatabases?.[region], dataDir: o.dataDir, writer: consumes, insertConnections: o.insertConnections, log: (line) => log.info({ region }, line) });
      cleanups.push(store.close);
      stores.set(region, store);
      log.info({ region, store: store.where }, "region store ready");
      const broker =
        brokerConfig.kind === "nats"
          ? await createNatsBroker({
              url: brokerConfig.urls?.[region] ?? brokerConfig.url,
              subjectPrefix: `${brokerConfig.subjectPrefix ?? "sy"}.${region}`,
              stream: `${natsName(brokerConfig.streamPrefix ?? "SY_MONITORING")}_${natsName(region)}`,
              ackWaitMs: brokerConfig.ackWaitMs,
              user: brokerConfig.user,
              pass: brokerConfig.pass,
              log: log.child({ region, broker: "nats" }),
            })
          : createInProcessBroker({ maxQueued: brokerConfig.maxQueued });
      cleanups.push(broker.close);
      brokers.set(region, broker);
    }
    const home = stores.get(o.regions[0])!;
    const registry = await createRegistry(stores);
    const feed = createFeed();
    cleanups.push(async () => feed.close());
    const flags = await createFlags({ brokers: [...brokers.values()], home: home.write, log, onChange: (m) => feed.publish("flags", null, m) });
    cleanups.push(async () => flags.close());

    // ---- audit, batched per region (the home store for calls that name no region) ----
    const auditors = new Map(
      [...stores].map(([region, store]) => [
        region,
        createBatcher<AuditEntry>({
          write: (rows) =>
            store.write.query(
              `INSERT INTO "monitoring"."audit" (api, actor, region, action, target, status, detail) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::json[])`,
              [rows.map((r) => r.api), rows.map((r) => r.actor), rows.map((r) => r.region), rows.map((r) => r.action), rows.map((r) => r.target), rows.map((r) => r.status), rows.map((r) => (r.detail === null ? null : JSON.stringify(r.detail)))],
            ),
          intervalMs: 1000,
          onError: (error) => log.warn({ region, err: error.message }, "audit batch failed"),
        }),
      ]),
    );
    for (const a of auditors.values()) cleanups.push(a.close);
    const audit = (entry: AuditEntry) => auditors.get(entry.region && auditors.has(entry.region) ? entry.region : o.regions[0])!.push(entry);

    // ---- per-region runtime: rollups, latest values, alarms, pipeline ----
    const silentMs = (o.silentIntervals ?? 6) * (o.reportIntervalMs ?? 10_000);
    const dirtyDevices = new Map<string, Set<string>>(o.regions.map((r) => [r, new Set()]));
    const dirtySites = new Map<string, Set<string>>(o.regions.map((r) => [r, new Set()]));
    const regions = new Map<string, RegionRuntime>();
    let ingest: ReturnType<typeof createIngest> | undefined;
    for (const region of o.regions) {
      const store = stores.get(region)!;
      const rollups = createRollups({ db: store.write, flushMs: o.rollupFlushMs, onError: (error, g) => log.warn({ region, g, err: error.message }, "rollup flush failed; retrying") });
      const latest = createLatestValues({ db: store.write, onError: (error) => log.warn({ region, err: error.message }, "device state flush failed") });
      const alarms = createAlarmEngine({
        region,
        db: store.write,
        thresholds: o.thresholds ?? DEFAULT_THRESHOLDS,
        silentIntervals: o.silentIntervals,
        reportIntervalMs: o.reportIntervalMs,
        onChange: (alarm) => {
          feed.publish("alarm", region, alarm);
          dirtySites.get(region)!.add(alarm.site);
        },
        onError: (error) => log.warn({ region, err: error.message }, "alarm write failed"),
      });
      const rt: RegionRuntime = { region, store, broker: brokers.get(region)!, rollups, latest, alarms, view: { region, latest, alarms, silentMs } };
      if (consumes) {
        const refolded = await rollups.recover();
        if (refolded) log.info({ region, refolded }, "rollups recovered from the landing zone");
        await latest.restore();
        await alarms.restore();
        rt.pipeline = createRegionPipeline({
          region,
          broker: rt.broker,
          store,
          writer: await openSampleWriter(store),
          rollups,
          latest,
          alarms,
          flags: flags.flags,
          log: log.child({ region }),
          hooks: {
            onWritten: (keys) => ingest?.written(keys),
            onDevicesChanged: (_region, devices) => devices.forEach((d) => dirtyDevices.get(region)!.add(d)),
          },
          metrics: {
            consumed: (dataset, n) => counters.consumed.inc({ region, dataset }, n),
            stored: (dataset, n) => counters.stored.inc({ region, dataset }, n),
            invalid: (reason) => counters.invalid.inc({ region, reason }),
          },
        });
      }
      regions.set(region, rt);
    }
    const core: MonitoringCore = { regions, registry, flags, feed, audit };
    // Consumers run before anything can publish: an in-process topic drops what nobody consumes.
    for (const rt of regions.values()) {
      if (!rt.pipeline) continue;
      await rt.pipeline.start();
      cleanups.push(() => rt.pipeline!.stop());
      rt.rollups.start();
      cleanups.push(rt.rollups.close);
      rt.latest.start();
      cleanups.push(rt.latest.close);
      cleanups.push(rt.alarms.flush);
    }
    // On shutdown (reverse order): stop taking requests, handle what is queued, then flush.
    cleanups.push(async () => {
      for (const b of brokers.values()) await b.drain();
    });

    // ---- HTTP: ops, ingest, summary, raw, admin ----
    type Auth = "none" | "console" | "admin";
    const router = createRouter<Auth>({
      log,
      authorize: (req, auth) => auth === "none" || sameSecret(bearerToken(req), auth === "console" ? o.consoleToken : o.adminToken),
    });
    const route = (auth: Auth) => (method: string, path: string, handler: RouteHandler) => router.route(method, path, auth, handler);
    const server = http.createServer();
    const port = await listen(server, o.port ?? 8300, o.host ?? "127.0.0.1");
    const url = `http://${urlHost(o.host ?? "127.0.0.1")}:${port}`;
    cleanups.push(async () => {
      server.closeAllConnections();
      await closeServer(server);
    });

    if (ingests) {
      ingest = createIngest({
        registry,
        brokers,
        flags: flags.flags,
        log,
        maxBodyBytes: o.maxBodyBytes ?? 1024 * 1024,
        maxFutureMs: o.maxClockSkewMs ?? 300_000,
        maxAgeMs: (o.rawRetentionDays ?? 42) * 86_400_000,
        requestsPerSecond: o.requestsPerSecond ?? 20,
        recordsPerSecond: o.recordsPerSecond ?? 2000,
        syncTimeoutMs: o.syncTimeoutMs ?? 10_000,
        publicUrl: () => o.publicUrl ?? url,
        isStored: async (region, keys) => {
          const { rows } = await stores.get(region)!.read.query<{ n: string }>(
            `SELECT count(*) AS n FROM "monitoring"."sample" s JOIN unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS k(dataset, device, part, t)
               ON s.dataset = k.dataset AND s.device = k.device AND s.part = k.part AND s.time_event = to_timestamp(k.t / 1000.0)`,
            [keys.map((k) => k.dataset), keys.map((k) => k.device), keys.map((k) => k.part), keys.map((k) => k.timeEvent)],
          );
          return Number(rows[0]?.n ?? 0) >= new Set(keys.map((k) => `${k.dataset}|${k.device}|${k.part}|${k.timeEvent}`)).size;
        },
        counters,
        deviceSite: consumes ? (region, device) => regions.get(region)?.latest.get(device)?.site : undefined,
      });
      router.route("POST", "/devices/dataset/:dataset", "none", ingest.handle);
    }
    if (consumes) {
      registerSummaryRoutes(route("console"), core);
      registerRawRoutes(route("none"), core);
    }
    route("admin")("GET", "/api/v1/admin/sites", async ({ res }) => sendJson(res, 200, { items: [...registry.sites()] }));
    route("admin")("POST", "/api/v1/admin/sites", async ({ req, res }) => {
      const body = parseInput(createSiteBodySchema, await readJsonBody(req), "body");
      const site = await registry.upsertSite({ id: body.id, name: body.name, region: body.region, kind: body.kind, lat: body.lat ?? null, lon: body.lon ?? null });
      audit({ api: "admin", actor: "admin", region: site.region, action: "sites.upsert", target: site.id, status: 200, detail: null });
      sendJson(res, 200, site);
    });
    route("admin")("POST", "/api/v1/admin/keys", async ({ req, res }) => {
      const body = parseInput(createKeyBodySchema, await readJsonBody(req), "body");
      const { key, secret } = await registry.createKey(body);
      audit({ api: "admin", actor: "admin", region: key.regions[0] ?? null, action: "keys.create", target: key.id, status: 201, detail: { kind: key.kind, name: key.name } });
      sendJson(res, 201, { ...key, key: secret });
    });

    new Gauge({ name: "monitoring_feed_clients", help: "Open summary-feed connections", registers: [metrics], collect() { this.set(feed.clients()); } });
    new Gauge({
      name: "monitoring_broker_queued",
      help: "Messages queued in the in-process broker",
      registers: [metrics],
      collect() {
        this.set([...brokers.values()].reduce((n, b) => n + b.stats().queued, 0));
      },
    });
    let building: Awaited<ReturnType<typeof startBuildingIngest>> | undefined;
    const ops = createOpsHandler({
      registry: metrics,
      check: () => ({
        ok: !o.mqtt || !building || building.connected(),
        role,
        broker: brokerConfig.kind,
        regions: Object.fromEntries([...regions].map(([r, rt]) => [r, { store: rt.store.where, devices: [...rt.latest.all()].length, ...(rt.pipeline?.stats() ?? {}), rollupWatermarks: rt.rollups.watermarks(), broker: rt.broker.stats() }])),
        mqtt: o.mqtt ? (building?.connected() ? "connected" : "down") : "off",
      }),
    });
    server.on("request", (req, res) => {
      if (!ops(req, res)) router.handle(req, res);
    });

    if (ingests && o.mqtt) {
      building = await startBuildingIngest({
        mqttUrl: o.mqtt.url,
        username: o.mqtt.username,
        password: o.mqtt.password,
        shareGroup: o.mqtt.shareGroup,
        registry,
        brokers,
        log,
        maxFutureMs: o.maxClockSkewMs ?? 300_000,
        maxAgeMs: (o.rawRetentionDays ?? 42) * 86_400_000,
        messagesPerSecond: o.gatewayMessagesPerSecond ?? 200,
        counter: counters.building,
      });
      cleanups.push(building.close);
    }

    const timers: NodeJS.Timeout[] = [];
    const every = (ms: number, fn: () => Promise<unknown> | void) => {
      const t = setInterval(() => void Promise.resolve().then(fn).catch((error: unknown) => log.warn({ err: (error as Error).message }, "background task failed")), ms);
      t.unref();
      timers.push(t);
    };
    cleanups.push(async () => timers.forEach(clearInterval));
    // Coalesced live updates: at most one device event per device and window.
    every(o.feedCoalesceMs ?? 1000, () => {
      for (const [region, ids] of dirtyDevices) {
        const rt = regions.get(region)!;
        for (const id of ids) {
          const d = rt.latest.get(id);
          if (!d) continue;
          feed.publish("device", region, deviceView(rt.view, d));
          dirtySites.get(region)!.add(d.site);
        }
        ids.clear();
      }
      for (const [region, ids] of dirtySites) {
        const rt = regions.get(region)!;
        for (const id of ids) {
          const site = registry.site(id);
          if (site) feed.publish("site", region, siteView(rt.view, site));
        }
        ids.clear();
      }
    });
    if (consumes) {
      every(o.reportIntervalMs ?? 10_000, () => {
        if (!flags.flags().alarms) return;
        for (const rt of regions.values()) rt.alarms.sweepSilent(rt.latest.all());
      });
      every(3_600_000, async () => {
        const day = 86_400_000;
        for (const rt of regions.values()) {
          await pruneSamples(rt.store.write, Date.now() - (o.rawRetentionDays ?? 42) * day);
          await rt.store.write.query(`DELETE FROM "monitoring"."rollup_1m" WHERE bucket < $1::timestamptz`, [new Date(Date.now() - (o.rollup1mRetentionDays ?? 42) * day).toISOString()]);
          await rt.store.write.query(`DELETE FROM "monitoring"."rollup_1h" WHERE bucket < $1::timestamptz`, [new Date(Date.now() - (o.rollup1hRetentionDays ?? 730) * day).toISOString()]);
        }
      });
    }
    // An ingest-only process learns about keys created elsewhere.
    if (!consumes) every(15_000, () => registry.load());

    log.info({ url, role, broker: brokerConfig.kind, regions: o.regions }, "monitoring started");
    return {
      url,
      core,
      flush: async () => {
        for (const rt of regions.values()) {
          await rt.rollups.flush();
          await rt.latest.flush();
          await rt.alarms.flush();
        }
        for (const a of auditors.values()) await a.flush();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
};
