import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { parseArgs } from "node:util";
import { connect, JSONCodec, StorageType } from "nats";
import { formatTimeLocal } from "../../contracts/monitoring";
import { Histogram } from "../csms/hist";
import { createScratchDatabase } from "../../lib/testing/pg";
import { openRegionStore } from "../../services/monitoring/storage/region-store";

/**
 * `npm run bench:monitoring`: sustained samples/s end to end (HTTP → broker → storage →
 * rollups) with the in-process broker and with NATS JetStream, ingest-to-queryable latency,
 * and the p99 of a 30-day chart query at 1,000 devices — each beside a baseline of the same
 * load (a bare HTTP server that only parses; bare JetStream publishes; the chart's SQL alone).
 * A sample is one stored record (one data item of one device). The service runs as its own
 * process (services/monitoring/main.ts), exactly as deployed.
 */
const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "15" },
    concurrency: { type: "string", default: "16" },
    devices: { type: "string", default: "1000" },
    db: { type: "string", default: "pglite" },
    brokers: { type: "string", default: "in-process,nats" },
    nats: { type: "string", default: process.env.MONITORING_NATS_URL ?? "nats://127.0.0.1:4222" },
    postgres: { type: "string", default: process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
    "chart-queries": { type: "string", default: "500" },
    skip: { type: "string", default: "" },
    "items-per-device": { type: "string", default: "10" },
    /** Samples/s of the paced run that measures ingest → queryable latency below saturation. */
    "latency-rate": { type: "string", default: "1000" },
    "json-out": { type: "string" },
    /** Directory for a V8 CPU profile of each service process (node --cpu-prof), written when it stops. */
    "cpu-prof": { type: "string" },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const CONCURRENCY = Number(args.concurrency);
const DEVICES = Number(args.devices);
const DEVICES_PER_REQUEST = 10;
const ITEMS_PER_DEVICE = Number(args["items-per-device"]);
const RECORDS_PER_REQUEST = DEVICES_PER_REQUEST * ITEMS_PER_DEVICE;
const skip = new Set(args.skip.split(",").filter(Boolean));
const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

// ---------- load ----------

const T0 = Date.now() - 20 * 86_400_000;
const item = (t: number, v: number) =>
  `{"time_local":"${formatTimeLocal(t, 420)}","pv":{"volts":[48.1,47.9],"amps":[${(v % 8).toFixed(2)},5.5]},"battery":{"volts":${(50 + (v % 6)).toFixed(2)},"amps":2.5},"load":{"volts":[48,48],"amps":[1.2,6.1]}}`;
/** Request r: 10 devices × 10 readings, timestamps unique per device across the run. */
const body = (r: number) => {
  const round = Math.floor((r * DEVICES_PER_REQUEST) / DEVICES);
  const first = (r * DEVICES_PER_REQUEST) % DEVICES;
  const datasets: string[] = [];
  for (let d = 0; d < DEVICES_PER_REQUEST; d++) {
    const device = `BENCH-${String((first + d) % DEVICES).padStart(4, "0")}`;
    const items: string[] = [];
    for (let k = 0; k < ITEMS_PER_DEVICE; k++) items.push(item(T0 + (round * ITEMS_PER_DEVICE + k) * 1000, r + k));
    datasets.push(`{"mppt_id":"${device}","status":{"code":"2801"},"data":[${items.join(",")}]}`);
  }
  return `{"datasets":[${datasets.join(",")}]}`;
};

const runLoad = async (url: string, headers: Record<string, string>, durationMs: number) => {
  const hist = new Histogram();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const statuses: Record<number, number> = {};
  const end = Date.now() + durationMs;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const b = body(next++);
        const t = performance.now();
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: b }).catch(() => undefined);
        await res?.arrayBuffer();
        hist.record(performance.now() - t);
        statuses[res?.status ?? 0] = (statuses[res?.status ?? 0] ?? 0) + 1;
        if (res?.status === 200) ok += 1;
        else failed += 1;
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  return { requests: next, ok, failed, statuses, seconds, samplesPerSec: (ok * RECORDS_PER_REQUEST) / seconds, p50: hist.quantile(0.5), p99: hist.quantile(0.99) };
};

/** A steady rate instead of as-fast-as-possible: one request every 1000 / rate ms. */
const runPaced = async (url: string, headers: Record<string, string>, samplesPerSec: number, durationMs: number) => {
  const interval = (1000 * RECORDS_PER_REQUEST) / samplesPerSec;
  const inflight: Promise<unknown>[] = [];
  let next = 1_000_000;
  let ok = 0;
  const start = Date.now();
  for (let i = 0; Date.now() - start < durationMs; i++) {
    const due = start + i * interval;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    inflight.push(
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: body(next++) })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) ok += 1;
        })
        .catch(() => {}),
    );
  }
  await Promise.all(inflight);
  return { ok, samplesPerSec: (ok * RECORDS_PER_REQUEST) / ((Date.now() - start) / 1000) };
};

// ---------- processes ----------

const startChild = (script: string, env: Record<string, string>, nodeArgs: string[] = []) =>
  new Promise<{ proc: ChildProcess; url: string }>((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeArgs, "--import", "tsx", script], { env: { ...process.env, LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "inherit"] });
    children.add(proc);
    proc.once("exit", (code) => {
      children.delete(proc);
      reject(new Error(`${script} exited (${code})`));
    });
    readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (line.includes('"event":"ready"')) resolve({ proc, url: JSON.parse(line).url });
    });
  });
const stopChild = (proc: ChildProcess) => new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : (proc.once("exit", () => resolve()), proc.kill("SIGTERM"))));

const createDatabase = async () => {
  if (args.db !== "postgres") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-bench-mon-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return { env: { SWITCHYARD_DATA_DIR: dir } as Record<string, string>, dataDir: dir, url: undefined as string | undefined };
  }
  const scratch = await createScratchDatabase({ prefix: "switchyard_bench", adminUrl: args.postgres });
  const url = new URL(scratch.url);
  cleanups.push(scratch.drop);
  return { env: { MONITORING_DB_EU_NORTH: url.toString(), SWITCHYARD_DATA_DIR: os.tmpdir() }, dataDir: os.tmpdir(), url: url.toString() };
};

const startService = async (broker: string, dbEnv: Record<string, string>) => {
  const tokens = { MONITORING_CONSOLE_TOKEN: randomBytes(16).toString("hex"), MONITORING_ADMIN_TOKEN: randomBytes(16).toString("hex") };
  const id = randomBytes(3).toString("hex");
  const svc = await startChild("services/monitoring/main.ts", {
    ...dbEnv,
    ...tokens,
    MONITORING_PORT: "0",
    MONITORING_REGIONS: "eu-north",
    MONITORING_BROKER: broker,
    MONITORING_NATS_URL: args.nats!,
    MONITORING_NATS_PREFIX: `bench${id}`,
    MONITORING_NATS_STREAM: `BENCH${id}`,
    MONITORING_QUEUE_MAX: "2000000",
    MONITORING_MAX_BODY_BYTES: String(4 * 1024 * 1024),
  }, args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${args["cpu-prof"]}`] : []);
  const admin = (p: string, b: unknown) => fetch(`${svc.url}${p}`, { method: "POST", headers: { authorization: `Bearer ${tokens.MONITORING_ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(b) }).then((r) => r.json());
  await admin("/api/v1/admin/sites", { id: "bench", name: "Bench", region: "eu-north", kind: "solar" });
  const key = (await admin("/api/v1/admin/keys", { kind: "ingest", site: "bench", sender: "BENCH", ratePerSecond: 100_000 })).key as string;
  if (!key) throw new Error("could not create the ingest key");
  const health = async () => (await fetch(`${svc.url}/health`).then((r) => r.json())).regions["eu-north"] as { stored: number; lastSeq: number; rollupWatermarks: Record<string, number> };
  const summary = (p: string) => fetch(`${svc.url}${p}`, { headers: { authorization: `Bearer ${tokens.MONITORING_CONSOLE_TOKEN}`, "x-switchyard-regions": "eu-north" } });
  const cleanupNats = async () => {
    if (broker !== "nats") return;
    const nc = await connect({ servers: args.nats });
    const jsm = await nc.jetstreamManager();
    for (const s of [`BENCH${id.toUpperCase()}_EU_NORTH`, `BENCH${id.toUpperCase()}_EU_NORTH_SYSTEM`]) await jsm.streams.delete(s).catch(() => {});
    await nc.close();
  };
  /** The service process's CPU seconds so far (prom-client's process_cpu_seconds_total). */
  const cpuSeconds = async () => Number(/^process_cpu_seconds_total (\S+)$/m.exec(await fetch(`${svc.url}/metrics`).then((r) => r.text()))?.[1] ?? NaN);
  return { ...svc, key, health, summary, cpuSeconds, stop: async () => (await stopChild(svc.proc), await cleanupNats()) };
};

// ---------- phases ----------

type Row = Record<string, string | number>;
const rows: Row[] = [];
const addRow = (row: Row) => {
  rows.push(row);
  say(Object.values(row).join(" | "));
};
const f = (n: number, dp = 0) => (Number.isFinite(n) ? n.toFixed(dp) : "–");

const baselineHttp = async () => {
  const bare = await startChild("bench/monitoring/bare-http.ts", {});
  const r = await runLoad(`${bare.url}/devices/dataset/mppt`, {}, DURATION_MS);
  await stopChild(bare.proc);
  addRow({ run: "baseline: bare HTTP (parse only)", "samples/s": f(r.samplesPerSec), "HTTP p50 ms": f(r.p50, 1), "HTTP p99 ms": f(r.p99, 1), note: `${r.requests} requests` });
};

const baselineNats = async () => {
  const nc = await connect({ servers: args.nats });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const name = `BENCHBARE${randomBytes(3).toString("hex").toUpperCase()}`;
  await jsm.streams.add({ name, subjects: [`${name}.>`], storage: StorageType.File });
  const jc = JSONCodec();
  const message = JSON.parse(body(0)).datasets[0];
  const hist = new Histogram();
  let sent = 0;
  const end = Date.now() + DURATION_MS;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY * DEVICES_PER_REQUEST }, async (_, w) => {
      while (Date.now() < end) {
        const t = performance.now();
        await js.publish(`${name}.d${w % DEVICES}`, jc.encode({ v: 1, region: "eu-north", site: "bench", sender: "BENCH", receivedAt: Date.now(), dataset: "mppt", body: message }));
        hist.record(performance.now() - t);
        sent += 1;
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  await jsm.streams.delete(name);
  await nc.close();
  addRow({ run: "baseline: bare JetStream publish (PubAck each)", "samples/s": f((sent * ITEMS_PER_DEVICE) / seconds), "HTTP p50 ms": `${f(hist.quantile(0.5), 1)} (publish)`, "HTTP p99 ms": `${f(hist.quantile(0.99), 1)} (publish)`, note: `${sent} messages of ${ITEMS_PER_DEVICE} records` });
};

/** Posts one reading every 50 ms and polls the summary API until it shows it: ingest → queryable. */
const startProbes = (url: string, svc: { key: string; summary: (p: string) => Promise<Response> }) => {
  const probe = new Histogram();
  let probing = true;
  const done = (async () => {
    let i = 0;
    while (probing) {
      i += 1;
      const volts = 40 + (i % 1000) / 100;
      const b = JSON.stringify({ datasets: [{ mppt_id: "PROBE", status: { code: "0001" }, data: [{ time_local: formatTimeLocal(Date.now() - 5000 + (i % 1000), 0), pv: { volts: [1], amps: [1] }, battery: { volts: volts, amps: 0 }, load: { volts: [1], amps: [1] } }] }] });
      const t = performance.now();
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-api-key": svc.key }, body: b }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status !== 200) continue;
      for (;;) {
        const r = await svc.summary("/api/v1/regions/eu-north/devices/PROBE").catch(() => undefined);
        const j = r && r.ok ? ((await r.json()) as { device: { values: Record<string, number> } }) : undefined;
        if (j?.device.values["battery.volts"] === volts) break;
        if (performance.now() - t > 60_000) break;
        await new Promise((r2) => setTimeout(r2, 2));
      }
      probe.record(performance.now() - t);
      await new Promise((r2) => setTimeout(r2, 50));
    }
  })();
  return {
    stop: async () => {
      probing = false;
      await done;
      return probe;
    },
  };
};

const endToEnd = async (broker: string) => {
  const db = await createDatabase();
  const svc = await startService(broker, db.env);
  const url = `${svc.url}/devices/dataset/mppt`;
  const probes = startProbes(url, svc);
  const cpuBefore = await svc.cpuSeconds();
  const start = Date.now();
  const load = await runLoad(url, { "x-api-key": svc.key }, DURATION_MS);
  const probe = await probes.stop();
  const accepted = load.ok * RECORDS_PER_REQUEST;
  // End to end = stored and folded into the 1-minute rollups.
  let h = await svc.health();
  const deadline = Date.now() + 600_000;
  let storedAt = h.stored >= accepted ? Date.now() : undefined;
  while ((h.stored < accepted || (h.rollupWatermarks["1m"] ?? 0) < h.lastSeq) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    h = await svc.health();
    if (storedAt === undefined && h.stored >= accepted) storedAt = Date.now();
  }
  const seconds = (Date.now() - start) / 1000;
  // Machine-independent-ish: the service's own CPU per stored sample (PostgreSQL's is not in it).
  const cpuUsPerSample = ((await svc.cpuSeconds()) - cpuBefore) * 1e6 / Math.max(1, h.stored);
  const rate = Number(args["latency-rate"]);
  const paced = startProbes(url, svc);
  const steady = await runPaced(url, { "x-api-key": svc.key }, rate, DURATION_MS);
  const below = await paced.stop();
  await svc.stop();
  for (const c of cleanups.splice(0)) await c();
  addRow({
    run: `end to end: ${broker} broker, ${args.db}`,
    "samples/s": f((h.stored - probe.count) / seconds),
    "HTTP p50 ms": f(load.p50, 1),
    "HTTP p99 ms": f(load.p99, 1),
    note: `accepted ${f(load.samplesPerSec)}/s over ${f(load.seconds, 1)} s; all stored after ${f(((storedAt ?? Date.now()) - start) / 1000, 1)} s, + rolled up after ${f(seconds, 1)} s; service CPU ${f(cpuUsPerSample, 1)} µs per sample; ingest→queryable at saturation p50 ${f(probe.quantile(0.5), 1)} ms, p99 ${f(probe.quantile(0.99), 1)} ms (${probe.count} probes); statuses ${JSON.stringify(load.statuses)}`,
  });
  addRow({
    run: `ingest → queryable at ${rate} samples/s: ${broker} broker, ${args.db}`,
    "samples/s": f(steady.samplesPerSec),
    "HTTP p50 ms": `${f(below.quantile(0.5), 1)} (ingest→queryable)`,
    "HTTP p99 ms": `${f(below.quantile(0.99), 1)} (ingest→queryable)`,
    note: `${below.count} probes, each posted then polled on the summary API every 2 ms`,
  });
};

const chart = async () => {
  const db = await createDatabase();
  const store = await openRegionStore({ region: "eu-north", databaseUrl: db.url, dataDir: db.dataDir });
  const now = Date.now();
  const from = Math.floor((now - 30 * 86_400_000) / 3_600_000) * 3_600_000;
  say(`seeding 1h rollups: ${DEVICES} devices × 3 metrics × 720 hours`);
  // Bulk load without the indexes, then build them once (minutes faster on PGlite).
  await store.write.exec(`ALTER TABLE "monitoring"."rollup_1h" DROP CONSTRAINT "rollup_1h_pkey"; DROP INDEX "monitoring"."rollup_1h_site_idx"`);
  for (let d = 0; d < DEVICES; d += 50) {
    await store.write.query(
      `INSERT INTO "monitoring"."rollup_1h" (device, metric, bucket, site, count, sum, min, max, first, first_at, last, last_at)
       SELECT 'CHART-' || lpad(dv::text, 4, '0'), m, to_timestamp($1 / 1000.0) + (h || ' hours')::interval, 'bench', 360, 360 * 50.0, 48, 52, 50, to_timestamp($1 / 1000.0) + (h || ' hours')::interval, 51, to_timestamp($1 / 1000.0) + (h || ' hours')::interval
       FROM generate_series($2::int, $3::int) dv, unnest(ARRAY['battery.volts', 'pv.watts', 'load.watts']) m, generate_series(0, 720) h`,
      [from, d, Math.min(d + 49, DEVICES - 1)],
    );
  }
  await store.write.exec(`ALTER TABLE "monitoring"."rollup_1h" ADD CONSTRAINT "rollup_1h_pkey" PRIMARY KEY ("device", "metric", "bucket"); CREATE INDEX "rollup_1h_site_idx" ON "monitoring"."rollup_1h" ("site", "metric", "bucket"); ANALYZE "monitoring"."rollup_1h"`);
  const queries = Number(args["chart-queries"]);
  const sql = new Histogram();
  for (let i = 0; i < queries; i++) {
    const device = `CHART-${String(Math.floor(Math.random() * DEVICES)).padStart(4, "0")}`;
    const t = performance.now();
    await store.read.query(`SELECT metric, bucket, count, sum, min, max, first, last FROM "monitoring"."rollup_1h" WHERE device = $1 AND metric = ANY($2::text[]) AND bucket >= to_timestamp($3 / 1000.0) AND bucket < to_timestamp($4 / 1000.0)`, [device, ["battery.volts", "pv.watts"], from, now]);
    sql.record(performance.now() - t);
  }
  await store.close();
  const svc = await startService("in-process", db.env);
  const api = new Histogram();
  let points = 0;
  for (let i = 0; i < queries; i++) {
    const device = `CHART-${String(Math.floor(Math.random() * DEVICES)).padStart(4, "0")}`;
    const t = performance.now();
    const r = (await svc.summary(`/api/v1/regions/eu-north/devices/${device}/series?metrics=battery.volts,pv.watts&from=${from}&to=${now}&width=800`).then((x) => x.json())) as { series: { points: unknown[] }[] };
    api.record(performance.now() - t);
    points = r.series[0].points.length;
  }
  await svc.stop();
  for (const c of cleanups.splice(0)) await c();
  addRow({ run: `baseline: the chart's SQL alone, ${args.db}`, "samples/s": "", "HTTP p50 ms": f(sql.quantile(0.5), 1), "HTTP p99 ms": f(sql.quantile(0.99), 1), note: `${queries} queries, 2 metrics × 720 hourly rows` });
  addRow({ run: `30-day chart via summary API, ${DEVICES} devices, ${args.db}`, "samples/s": "", "HTTP p50 ms": f(api.quantile(0.5), 1), "HTTP p99 ms": f(api.quantile(0.99), 1), note: `${queries} queries, width 800 → ${points} points per metric` });
};

const main = async () => {
  say(`duration ${DURATION_MS / 1000} s, concurrency ${CONCURRENCY}, ${RECORDS_PER_REQUEST} records per request (${DEVICES_PER_REQUEST} devices × ${ITEMS_PER_DEVICE}), ${DEVICES} devices, db ${args.db}; node ${process.version}, ${os.cpus().length} cores`);
  if (!skip.has("http")) await baselineHttp();
  if (!skip.has("nats")) await baselineNats();
  for (const broker of args.brokers!.split(",").filter(Boolean)) await endToEnd(broker);
  if (!skip.has("chart")) await chart();
  const cols = ["run", "samples/s", "HTTP p50 ms", "HTTP p99 ms", "note"];
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  const table = [line(cols), line(cols.map(() => "---")), ...rows.map((r) => line(cols.map((c) => r[c] ?? "")))].join("\n");
  process.stdout.write(`\n${table}\n`);
  if (args["json-out"]) fs.appendFileSync(args["json-out"], `${JSON.stringify({ at: new Date().toISOString(), args, rows })}\n`);
};

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:monitoring failed: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of cleanups.splice(0)) await c().catch(() => {});
    for (const c of children) c.kill("SIGKILL");
  });
