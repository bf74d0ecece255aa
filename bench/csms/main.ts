import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connectAsync, type MqttClient } from "mqtt";
import pg from "pg";
import { Histogram } from "./hist";
import type { LoadInit, LoadReport, StatusSend } from "./load";
import { createSampler } from "./procstat";

/**
 * `npm run bench:csms -- --stations N [--procs P] [--broker embedded|mqtt://…]
 *   [--db pglite|postgres://…] [--duration S] [--ramp-per-sec R]`
 *
 * Starts broker (optional), manager and gateway as separate processes on free ports, forks
 * P load generators, measures station call latency, station event → console view (SSE)
 * latency, CPU and RSS, prints a table and kills everything it started. See bench/RESULTS.md.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const now = () => performance.timeOrigin + performance.now();

const usage = `usage: npm run bench:csms -- --stations N [options]
  --stations N            stations to simulate (required)
  --procs P               load-generator processes (default ceil(N / 4000), ≤ 5000 sockets each)
  --broker B              "embedded" (aedes in its own process), "mosquitto" (a private mosquitto on a free
                          port with set_tcp_nodelay true) or mqtt://… (default mqtt://127.0.0.1:1883, the
                          system Mosquitto, with a unique topic prefix per run)
  --db D                  "pglite" (fresh data dir, default) or postgres://… (a fresh database is created
                          on that server and dropped afterwards)
  --duration S            steady phase after the ramp, seconds (default 30)
  --ramp-per-sec R        stations connected per second (default 100)
  --heartbeat-sec H       heartbeat interval, also the manager's (default 60)
  --status-every-sec S    each station toggles one connector Available/Unavailable every S s (default 60, 0 = off)
  --tx-fraction F         share of stations running a transaction (default 0.2)
  --tx-sec S              transaction length (default 30)
  --meter-sec S           MeterValues / TransactionEvent Updated period (default 10)
  --ratio16 F             share of OCPP 1.6 stations, the rest 2.0.1 (default 0.5)
  --call-timeout-ms MS    station-side call timeout (default 30000)
  --manager M             "real" (services/csms/manager/main.ts, default) or "inline" (the testkit's
                          answer-everything stand-in: gateway + broker only, no database, no SSE feed;
                          the view latency is then station → MQTT in/ seen by a plain subscriber)
  --observe-mqtt          also measure station → MQTT in/ (a plain subscriber) latency
  --log-level L           gateway/manager LOG_LEVEL (default warn)
  --quiet-wait S          before starting, wait up to S s for the machine to be idle (< 25 % busy over 3 s),
                          since other work on a 2-core box skews every number (default 180, 0 = don't wait)
  --json-out FILE         append the result as one JSON line to FILE
  --flood                 add one hostile station (BENCHFLOOD, its own process) that sends valid Heartbeats as
                          fast as its socket allows from t0 to the end; its calls are not measured
`;

const { values: args } = parseArgs({
  options: {
    stations: { type: "string" },
    procs: { type: "string" },
    broker: { type: "string", default: "mqtt://127.0.0.1:1883" },
    db: { type: "string", default: "pglite" },
    duration: { type: "string", default: "30" },
    "ramp-per-sec": { type: "string", default: "100" },
    "heartbeat-sec": { type: "string", default: "60" },
    "status-every-sec": { type: "string", default: "60" },
    "tx-fraction": { type: "string", default: "0.2" },
    "tx-sec": { type: "string", default: "30" },
    "meter-sec": { type: "string", default: "10" },
    ratio16: { type: "string", default: "0.5" },
    "call-timeout-ms": { type: "string", default: "30000" },
    "observe-mqtt": { type: "boolean", default: false },
    "log-level": { type: "string", default: "warn" },
    manager: { type: "string", default: "real" },
    "quiet-wait": { type: "string", default: "180" },
    "json-out": { type: "string" },
    flood: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  allowPositionals: false,
});

const num = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be a number in [${min}, ${max}]\n${usage}`);
    process.exit(2);
  }
  return n;
};

if (args.help || !args.stations) {
  process.stdout.write(usage);
  process.exit(args.help ? 0 : 2);
}

const N = Math.floor(num("stations", args.stations, 1, 100_000));
const P = Math.floor(num("procs", args.procs ?? String(Math.max(1, Math.ceil(N / 4000))), 1, 64));
if (N / P > 5000) {
  process.stderr.write(`--procs ${P}: ${Math.ceil(N / P)} sockets per process exceeds 5000 (open files are capped at 20,000); use --procs ${Math.ceil(N / 5000)} or more\n`);
  process.exit(2);
}
const cfg = {
  durationSec: num("duration", args.duration, 1, 3600),
  rampPerSec: num("ramp-per-sec", args["ramp-per-sec"], 1, 100_000),
  heartbeatSec: num("heartbeat-sec", args["heartbeat-sec"], 1, 86_400),
  statusEverySec: num("status-every-sec", args["status-every-sec"], 0, 86_400),
  txFraction: num("tx-fraction", args["tx-fraction"], 0, 1),
  txSec: num("tx-sec", args["tx-sec"], 1, 86_400),
  meterSec: num("meter-sec", args["meter-sec"], 1, 86_400),
  ratio16: num("ratio16", args.ratio16, 0, 1),
  callTimeoutMs: num("call-timeout-ms", args["call-timeout-ms"], 100, 600_000),
};
if (args.broker !== "embedded" && args.broker !== "mosquitto" && !/^mqtts?:\/\//.test(args.broker!)) {
  process.stderr.write(`--broker must be "embedded", "mosquitto" or mqtt://…\n`);
  process.exit(2);
}
if (args.manager !== "real" && args.manager !== "inline") {
  process.stderr.write(`--manager must be "real" or "inline"\n`);
  process.exit(2);
}
const inlineManager = args.manager === "inline";
if (args.db !== "pglite" && !/^postgres(ql)?:\/\//.test(args.db!)) {
  process.stderr.write(`--db must be "pglite" or postgres://…\n`);
  process.exit(2);
}

const runId = `${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomBytes(3).toString("hex")}`;
const runDir = path.join(os.tmpdir(), `switchyard-bench-${runId}`);
mkdirSync(runDir, { recursive: true });
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

// ---------- child processes: everything we start is killed at the end ----------

type Child = { name: string; proc: ChildProcess };
const children: Child[] = [];
const alive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

process.on("exit", () => {
  // Last resort (uncaught error): synchronous SIGKILL of anything still running.
  for (const c of children) if (alive(c)) c.proc.kill("SIGKILL");
});

const stopChildren = async (names?: string[]) => {
  const targets = children.filter((c) => alive(c) && (!names || names.includes(c.name)));
  for (const c of targets) c.proc.kill("SIGTERM");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && targets.some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const c of targets) if (alive(c)) c.proc.kill("SIGKILL");
};

/** Spawns `node --import tsx <file>` and resolves with its `{"event":"ready",…}` line. */
const startService = (name: string, file: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000) =>
  new Promise<{ child: Child; ready: Record<string, unknown> }>((resolve, reject) => {
    const logFile = path.join(runDir, `${name}.log`);
    const proc = spawn(process.execPath, ["--import", "tsx", file], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    const child = { name, proc };
    children.push(child);
    let buffer = "";
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms (log: ${logFile})`)), timeoutMs);
    proc.stdout!.on("data", (chunk: Buffer) => {
      appendFileSync(logFile, chunk);
      if (ready) return;
      buffer += chunk.toString("utf8");
      let idx;
      while ((idx = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, idx);
        buffer = buffer.slice(idx + 1);
        try {
          const msg = JSON.parse(line) as Record<string, unknown>;
          if (msg.event === "ready") {
            ready = true;
            clearTimeout(timer);
            resolve({ child, ready: msg });
            return;
          }
        } catch {
          // a log line
        }
      }
    });
    proc.stderr!.on("data", (chunk: Buffer) => appendFileSync(logFile, chunk));
    proc.on("exit", (code, signal) => {
      if (!ready) {
        clearTimeout(timer);
        const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "";
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail}`));
      } else if (!shuttingDown) log(`${name} exited unexpectedly (${code ?? signal}); log: ${logFile}`);
    });
  });

let shuttingDown = false;
const cleanups: (() => Promise<void>)[] = [];
const shutdown = async () => {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const c of children.filter((x) => x.name.startsWith("load"))) if (alive(c) && c.proc.connected) c.proc.send({ type: "exit" });
  await stopChildren(children.filter((x) => x.name.startsWith("load")).map((x) => x.name));
  await stopChildren(["gateway"]);
  await stopChildren(["manager"]);
  await stopChildren();
  for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => log(`cleanup failed: ${(e as Error).message}`));
};

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping everything`);
    void shutdown().finally(() => process.exit(130));
  });
}

// ---------- SSE: the console's view of the stations ----------

type Arrival = { st: string; t: number };
const openViewFeed = (baseUrl: string, token: string) => {
  const arrivals = new Map<string, Arrival[]>();
  const known = new Map<string, Map<string, string>>();
  const counts = { events: 0, station: 0, transaction: 0, meter: 0, resync: 0, bytes: 0, parseErrors: 0 };
  let req: http.ClientRequest | undefined;
  let connected = false;
  let error: string | undefined;

  const onEvent = (event: string, data: string, t: number) => {
    counts.events += 1;
    if (event === "resync") counts.resync += 1;
    if (event !== "station") {
      if (event === "transaction") counts.transaction += 1;
      else if (event === "meter") counts.meter += 1;
      return;
    }
    counts.station += 1;
    let view: { id: string; connectors?: { evseId: number; connectorId: number; status: string }[] };
    try {
      view = JSON.parse(data) as typeof view;
    } catch {
      counts.parseErrors += 1;
      return;
    }
    let mine = known.get(view.id);
    if (!mine) known.set(view.id, (mine = new Map()));
    for (const c of view.connectors ?? []) {
      const k = `${c.evseId}/${c.connectorId}`;
      if (mine.get(k) === c.status) continue;
      mine.set(k, c.status);
      const key = `${view.id}|${k}`;
      let list = arrivals.get(key);
      if (!list) arrivals.set(key, (list = []));
      list.push({ st: c.status, t });
    }
  };

  const ready = new Promise<void>((resolve, reject) => {
    req = http.get(`${baseUrl}/api/v0/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        error = `SSE answered ${res.statusCode}`;
        res.resume();
        return reject(new Error(error));
      }
      connected = true;
      resolve();
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        const t = now();
        counts.bytes += chunk.length;
        buffer += chunk;
        let idx;
        while ((idx = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          let event = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) onEvent(event, data, t);
        }
      });
      res.on("end", () => {
        connected = false;
        if (!shuttingDown) error = "SSE stream ended during the run";
      });
      res.on("error", () => (connected = false));
    });
    req.on("error", (e) => {
      error = e.message;
      reject(e);
    });
  });
  return {
    ready,
    arrivals,
    known,
    counts,
    state: () => ({ connected, error }),
    close: () => req?.destroy(),
  };
};

/** Plain MQTT subscriber to `<prefix>/in/+/+`: station → broker → observer, for --observe-mqtt. */
const openMqttObserver = async (url: string, prefix: string) => {
  const arrivals = new Map<string, Arrival[]>();
  const client: MqttClient = await connectAsync(url, { clientId: `bench-observer-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0 });
  (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  client.on("message", (topic, payload) => {
    const t = now();
    const parts = topic.split("/");
    const stationId = parts.at(-1)!;
    const version = parts.at(-2);
    let env: { type?: number; action?: string; request?: Record<string, unknown> };
    try {
      env = JSON.parse(payload.toString("utf8")) as typeof env;
    } catch {
      return;
    }
    if (env.type !== 2 || env.action !== "StatusNotification" || !env.request) return;
    const r = env.request;
    const k = version === "ocpp1.6" ? `${String(r.connectorId)}/${String(r.connectorId)}` : `${String(r.evseId)}/${String(r.connectorId)}`;
    const st = String(version === "ocpp1.6" ? r.status : r.connectorStatus);
    const key = `${stationId}|${k}`;
    let list = arrivals.get(key);
    if (!list) arrivals.set(key, (list = []));
    list.push({ st, t });
  });
  await client.subscribeAsync(`${prefix}/in/+/+`, { qos: 0 });
  return { arrivals, close: () => client.endAsync(true) };
};

/** Pairs each recorded status change with the first matching arrival at or after it. */
const matchLatencies = (sends: StatusSend[], arrivals: Map<string, Arrival[]>) => {
  const hist = new Histogram();
  let missing = 0;
  const byKey = new Map<string, StatusSend[]>();
  for (const s of sends) {
    const key = `${s.s}|${s.k}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(s);
  }
  // Timestamps come from two processes' performance.timeOrigin; allow 2 ms of skew.
  const slackMs = 2;
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.t - b.t);
    const arr = arrivals.get(key) ?? [];
    let j = 0;
    for (const s of list) {
      while (j < arr.length && (arr[j].t < s.t - slackMs || arr[j].st !== s.st)) j++;
      if (j >= arr.length) {
        missing += 1;
        continue;
      }
      hist.record(Math.max(0, arr[j].t - s.t));
      j++;
    }
  }
  return { hist, missing };
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

const pidsWithCmdline = (needle: string) => {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(needle)) pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
};

// ---------- metrics scrapes ----------

const scrape = async (url: string, headers: Record<string, string> = {}) => {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    return await res.text();
  } catch {
    return "";
  }
};
const sumMetric = (text: string, name: string, filter?: RegExp) =>
  text
    .split("\n")
    .filter((l) => l.startsWith(name) && (l[name.length] === " " || l[name.length] === "{") && (!filter || filter.test(l)))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

// ---------- the run ----------

const fmtMs = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : "–");
const fmt1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");

let loadBefore = "";
let busyBefore = Number.NaN;

/** Share (0–100) of all cores busy over `ms`, from /proc/stat. */
const machineBusy = async (ms: number) => {
  const read = () => {
    const v = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  const total = b.total - a.total;
  return total > 0 ? (1 - (b.idle - a.idle) / total) * 100 : 0;
};

const waitQuiet = async (maxSec: number) => {
  const deadline = Date.now() + maxSec * 1000;
  for (;;) {
    busyBefore = await machineBusy(3000);
    if (busyBefore < 25 || maxSec <= 0) return;
    if (Date.now() > deadline) {
      log(`machine still ${busyBefore.toFixed(0)} % busy after ${maxSec} s; starting anyway (numbers will be skewed)`);
      return;
    }
    log(`machine ${busyBefore.toFixed(0)} % busy with other work; waiting for a quiet moment`);
  }
};

const main = async () => {
  await waitQuiet(num("quiet-wait", args["quiet-wait"], 0, 3600));
  loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const prefix = `bench-${runId.replace(/[^A-Za-z0-9-]/g, "")}`;
  const apiToken = randomBytes(24).toString("hex");
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: args["log-level"], NODE_ENV: "production" };
  delete baseEnv.DATABASE_URL;
  log(`run ${runId}: N=${N} procs=${P} broker=${args.broker} db=${args.db} ramp=${cfg.rampPerSec}/s duration=${cfg.durationSec}s; logs in ${runDir}`);

  // Broker.
  let mqttUrl = args.broker!;
  let brokerPid: number | undefined;
  let brokerLabel = "mosquitto (system)";
  if (args.broker === "embedded") {
    const { ready } = await startService("broker", path.join(here, "broker.ts"), baseEnv, 30_000);
    mqttUrl = String(ready.url);
    brokerPid = Number(ready.pid);
    brokerLabel = "aedes (embedded)";
  } else if (args.broker === "mosquitto") {
    const port = await freePort();
    const conf = path.join(runDir, "mosquitto.conf");
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\nmax_queued_messages 100000\n`);
    const proc = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    children.push({ name: "broker", proc });
    const logFile = path.join(runDir, "broker.log");
    proc.stdout!.on("data", (c: Buffer) => appendFileSync(logFile, c));
    proc.stderr!.on("data", (c: Buffer) => appendFileSync(logFile, c));
    mqttUrl = `mqtt://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const sock = net.connect(port, "127.0.0.1", () => (sock.destroy(), resolve(true)));
        sock.on("error", () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`private mosquitto did not start (log: ${logFile})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    brokerPid = proc.pid;
    brokerLabel = "mosquitto (private, set_tcp_nodelay true)";
  } else {
    brokerLabel = `external ${mqttUrl}`;
    try {
      const pidFile = "/run/mosquitto/mosquitto.pid";
      if (/127\.0\.0\.1:1883|localhost:1883/.test(mqttUrl) && existsSync(pidFile)) {
        brokerPid = Number(readFileSync(pidFile, "utf8").trim());
        brokerLabel = "mosquitto (system, shared)";
      }
    } catch {
      // sampling the broker is a nice-to-have
    }
  }

  // Database.
  let databaseUrl: string | undefined;
  let pgDbName: string | undefined;
  if (args.db === "pglite") {
    mkdirSync(path.join(runDir, "data"), { recursive: true });
    cleanups.push(async () => rmSync(path.join(runDir, "data"), { recursive: true, force: true }));
  } else {
    const admin = new pg.Client({ connectionString: args.db });
    await admin.connect();
    const dbName = `switchyard_bench_${randomBytes(4).toString("hex")}`;
    pgDbName = dbName;
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(args.db!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: args.db });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    });
  }

  // Manager.
  const managerStarted = Date.now();
  const { ready: mReady } = await startService("manager", inlineManager ? path.join(here, "responder.ts") : path.join(root, "services/csms/manager/main.ts"), {
    ...baseEnv,
    CSMS_MANAGER_HOST: "127.0.0.1",
    CSMS_MANAGER_PORT: "0",
    MQTT_URL: mqttUrl,
    CSMS_TOPIC_PREFIX: prefix,
    CSMS_SHARE_GROUP: "manager",
    CSMS_API_TOKEN: apiToken,
    CSMS_ACCEPT_UNKNOWN_TOKENS: "1",
    CSMS_HEARTBEAT_INTERVAL_SEC: String(cfg.heartbeatSec),
    SWITCHYARD_DATA_DIR: path.join(runDir, "data"),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const managerUrl = inlineManager ? "http://127.0.0.1:9" : String(mReady.url);
  const managerPid = Number(mReady.pid);
  log(`manager ready at ${managerUrl} (pid ${managerPid}, shared subscription ${String(mReady.sharedSubscription)}) in ${Date.now() - managerStarted} ms`);

  // Gateway.
  const { ready: gReady } = await startService("gateway", path.join(root, "services/csms/gateway/main.ts"), {
    ...baseEnv,
    CSMS_GATEWAY_HOST: "127.0.0.1",
    CSMS_GATEWAY_PORT: "0",
    MQTT_URL: mqttUrl,
    CSMS_TOPIC_PREFIX: prefix,
    CSMS_MANAGER_URL: managerUrl,
    CSMS_ALLOW_ANY_STATION: "1",
  });
  const gatewayUrl = String(gReady.url);
  const gatewayHttp = String(gReady.httpUrl);
  const gatewayPid = Number(gReady.pid);
  log(`gateway ready at ${gatewayUrl} (pid ${gatewayPid})`);

  // The console's view, and optionally a plain MQTT observer.
  const view = inlineManager
    ? { ready: Promise.resolve(), arrivals: new Map<string, Arrival[]>(), known: new Map<string, Map<string, string>>(), counts: { events: 0, station: 0, transaction: 0, meter: 0, resync: 0, bytes: 0, parseErrors: 0 }, state: () => ({ connected: false, error: "no feed (inline responder)" as string | undefined }), close: () => {} }
    : openViewFeed(managerUrl, apiToken);
  await view.ready;
  const observer = args["observe-mqtt"] || inlineManager ? await openMqttObserver(mqttUrl, prefix) : undefined;

  // Load generators.
  const loads: { proc: ChildProcess; report?: LoadReport }[] = [];
  const readyLoads: Promise<void>[] = [];
  for (let p = 0; p < P; p++) {
    const proc = fork(path.join(here, "load.ts"), [], { cwd: root, execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "pipe", "ipc"], env: baseEnv });
    children.push({ name: `load${p}`, proc });
    const logFile = path.join(runDir, `load${p}.log`);
    proc.stdout!.on("data", (c: Buffer) => appendFileSync(logFile, c));
    proc.stderr!.on("data", (c: Buffer) => appendFileSync(logFile, c));
    const entry: { proc: ChildProcess; report?: LoadReport } = { proc };
    loads.push(entry);
    readyLoads.push(
      new Promise<void>((resolve, reject) => {
        proc.on("message", (m: { type: string }) => {
          if (m.type === "ready") resolve();
          if (m.type === "report") entry.report = m as LoadReport;
        });
        proc.on("exit", (code) => {
          if (!entry.report && !shuttingDown) reject(new Error(`load${p} exited (${code}) without a report; log: ${logFile}`));
        });
      }),
    );
    const indexes = Array.from({ length: N }, (_, i) => i).filter((i) => i % P === p);
    const init: LoadInit = {
      type: "init",
      procIndex: p,
      url: gatewayUrl,
      indexes,
      idPrefix: "BENCH",
      ratio16: cfg.ratio16,
      rampPerSec: cfg.rampPerSec,
      steadyMs: cfg.durationSec * 1000,
      heartbeatSec: cfg.heartbeatSec,
      statusEverySec: cfg.statusEverySec,
      txFraction: cfg.txFraction,
      txSec: cfg.txSec,
      meterSec: cfg.meterSec,
      callTimeoutMs: cfg.callTimeoutMs,
      connectRetries: 5,
    };
    proc.send(init);
  }
  await Promise.all(readyLoads);

  const sampler = createSampler({
    gateway: () => [gatewayPid],
    manager: () => [managerPid],
    broker: () => (brokerPid ? [brokerPid] : []),
    load: () => loads.map((l) => l.proc.pid!).filter(Boolean),
    bench: () => [process.pid],
    // PostgreSQL backends serving the run's database (their process title names it).
    postgres: () => (pgDbName ? pidsWithCmdline(pgDbName) : []),
  });

  const t0 = Date.now() + 500;
  const rampMs = (N / cfg.rampPerSec) * 1000;
  log(`go: ramp ${fmt1(rampMs / 1000)} s, then steady ${cfg.durationSec} s`);
  for (const l of loads) l.proc.send({ type: "go", t0 });
  // The hostile station, in its own process so its pumping does not slow the measurements.
  let floodReport: Record<string, number> | undefined;
  const flooder = args.flood ? fork(path.join(here, "flood.ts"), [gatewayUrl], { cwd: root, execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "ignore", "ipc"] }) : undefined;
  flooder?.on("message", (m: { type: string }) => {
    if (m.type === "flood-report") floodReport = m as unknown as Record<string, number>;
  });
  setTimeout(() => sampler.start(), 500);

  // Progress, and the hard deadline.
  const progress = setInterval(() => {
    const s = view.counts;
    log(`t+${fmt1((Date.now() - t0) / 1000)} s: view has ${view.known.size} stations, ${s.events} events${view.state().error ? ` (feed: ${view.state().error})` : ""}`);
  }, 10_000);
  const hardDeadlineMs = rampMs + cfg.durationSec * 1000 + 120_000;
  const reports = await Promise.race([
    Promise.all(
      loads.map(
        (l) =>
          new Promise<LoadReport>((resolve) => {
            if (l.report) return resolve(l.report);
            l.proc.on("message", (m: { type: string }) => m.type === "report" && resolve(m as LoadReport));
          }),
      ),
    ),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`load generators did not report within ${hardDeadlineMs / 1000} s`)), hardDeadlineMs + 500)),
  ]);
  clearInterval(progress);
  if (flooder) {
    const exited = new Promise((r) => (flooder.exitCode !== null ? r(null) : flooder.once("exit", r)));
    if (flooder.connected) flooder.send({ type: "exit" });
    // A flooder whose loop starves its own event loop is not waited for.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (flooder.exitCode === null) flooder.kill("SIGKILL");
  }
  // Let the feed catch up with the last status changes (bounded).
  const tailDeadline = Date.now() + 5000;
  let lastEvents = -1;
  while (Date.now() < tailDeadline && view.counts.events !== lastEvents) {
    lastEvents = view.counts.events;
    await new Promise((r) => setTimeout(r, 1000));
  }
  sampler.stop();

  // Aggregate.
  const merged: Record<string, Histogram> = {};
  const counters: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  const perSecond: number[] = [];
  const sends: StatusSend[] = [];
  let firstSendAt = Infinity;
  let lastAnswerAt = 0;
  let lastBootedAt = 0;
  let connected = 0;
  let booted = 0;
  for (const r of reports) {
    for (const [k, d] of Object.entries(r.hist)) (merged[k] ??= new Histogram()).add(d);
    for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.errorCodes)) errorCodes[k] = (errorCodes[k] ?? 0) + v;
    r.perSecond.forEach((n, i) => (perSecond[i] = (perSecond[i] ?? 0) + (n ?? 0)));
    for (const s of r.statusSends) sends.push(s);
    if (r.firstSendAt) firstSendAt = Math.min(firstSendAt, r.firstSendAt);
    lastAnswerAt = Math.max(lastAnswerAt, r.lastAnswerAt);
    lastBootedAt = Math.max(lastBootedAt, r.lastBootedAt);
    connected += r.connected;
    booted += r.booted;
  }
  const all = merged.all ?? new Histogram();
  const steady = merged.steady ?? new Histogram();
  const m = observer ? matchLatencies(sends, observer.arrivals) : undefined;
  // Without the real manager there is no console feed: the view column shows station → MQTT in/.
  const v = inlineManager && m ? m : matchLatencies(sends, view.arrivals);

  const gwMetrics = await scrape(`${gatewayHttp}/metrics`);
  const mgrMetrics = await scrape(`${managerUrl}/metrics`);
  const stationsTotal = await fetch(`${managerUrl}/api/v0/stations?limit=1`, { headers: { authorization: `Bearer ${apiToken}` } })
    .then((r) => r.json() as Promise<{ total?: number }>)
    .then((j) => j.total ?? NaN)
    .catch(() => NaN);
  const onlineTotal = await fetch(`${managerUrl}/api/v0/stations?limit=1&online=true`, { headers: { authorization: `Bearer ${apiToken}` } })
    .then((r) => r.json() as Promise<{ total?: number }>)
    .then((j) => j.total ?? NaN)
    .catch(() => NaN);

  const gw = sampler.usage("gateway");
  const mg = sampler.usage("manager");
  const br = sampler.usage("broker");
  const ld = sampler.usage("load");
  const machine = sampler.machine();
  const cores = os.cpus().length;
  const pgUsage = sampler.usage("postgres");
  const privateBroker = args.broker === "embedded" || args.broker === "mosquitto";
  const ours = [gw, mg, ld, sampler.usage("bench"), pgUsage, ...(privateBroker ? [br] : [])].reduce((n, u) => n + (Number.isFinite(u.cpuAvg) ? u.cpuAvg : 0), 0);
  const othersCpu = Math.max(0, machine.avg * cores - ours - (privateBroker ? 0 : Number.isFinite(br.cpuAvg) ? br.cpuAvg : 0));
  const windowSec = (lastAnswerAt - firstSendAt) / 1000;
  const errors = (counters.callErrors ?? 0) + (counters.connectFailed ?? 0) + (counters.unexpectedCloses ?? 0);
  const timeouts = (counters.timeouts ?? 0) + (counters.unansweredAtEnd ?? 0);

  const row = {
    N,
    booted: `${booted}/${N}`,
    "all booted (s)": fmt1((lastBootedAt - t0) / 1000),
    "calls/s": Math.round(all.count / windowSec),
    "peak calls/s": Math.max(0, ...perSecond.map((x) => x ?? 0)),
    "p50 ms": fmtMs(all.quantile(0.5)),
    "p95 ms": fmtMs(all.quantile(0.95)),
    "p99 ms": fmtMs(all.quantile(0.99)),
    "max ms": fmtMs(all.max),
    "view p50 ms": fmtMs(v.hist.quantile(0.5)),
    "view p99 ms": fmtMs(v.hist.quantile(0.99)),
    "err/timeout": `${errors}/${timeouts}`,
    "gw CPU% avg/max": `${fmt1(gw.cpuAvg)}/${fmt1(gw.cpuMax)}`,
    "gw RSS MB max": fmt1(gw.rssMaxMb),
    "mgr CPU% avg/max": `${fmt1(mg.cpuAvg)}/${fmt1(mg.cpuMax)}`,
    "mgr RSS MB max": fmt1(mg.rssMaxMb),
  };

  const detail = {
    connect: merged.connect,
    "connect+boot": merged.connectBoot,
    "all calls": all,
    "ramp calls": merged.ramp,
    "steady calls": steady,
    ...Object.fromEntries(Object.entries(merged).filter(([k]) => k.startsWith("action:")).map(([k, h]) => [k.slice(7), h])),
    [inlineManager ? "status → MQTT in (observer; no manager feed)" : "status → SSE view"]: v.hist,
    ...(m && !inlineManager ? { "status → MQTT in (observer)": m.hist } : {}),
  };
  const detailRows = Object.fromEntries(
    Object.entries(detail)
      .filter(([, h]) => h && h.count)
      .map(([k, h]) => [k, { count: h!.count, "p50 ms": fmtMs(h!.quantile(0.5)), "p95 ms": fmtMs(h!.quantile(0.95)), "p99 ms": fmtMs(h!.quantile(0.99)), "max ms": fmtMs(h!.max) }]),
  );

  process.stdout.write(`\nSwitchyard CSMS benchmark — ${N} stations, ${P} load process(es), broker ${brokerLabel}, ${inlineManager ? "INLINE test responder (no manager, no db; view = MQTT in/)" : `manager + db ${args.db}`}, ramp ${cfg.rampPerSec}/s, steady ${cfg.durationSec} s\n`);
  console.table([row]);
  process.stdout.write("\nLatency detail (station send → answer unless noted):\n");
  console.table(detailRows);
  process.stdout.write("\nProcesses (CPU% of one core, sampled every second during the run):\n");
  console.table({
    gateway: { "CPU% avg": fmt1(gw.cpuAvg), "CPU% max": fmt1(gw.cpuMax), "RSS MB avg": fmt1(gw.rssAvgMb), "RSS MB max": fmt1(gw.rssMaxMb) },
    manager: { "CPU% avg": fmt1(mg.cpuAvg), "CPU% max": fmt1(mg.cpuMax), "RSS MB avg": fmt1(mg.rssAvgMb), "RSS MB max": fmt1(mg.rssMaxMb) },
    [`broker: ${brokerLabel}`]: { "CPU% avg": fmt1(br.cpuAvg), "CPU% max": fmt1(br.cpuMax), "RSS MB avg": fmt1(br.rssAvgMb), "RSS MB max": fmt1(br.rssMaxMb) },
    ...(pgDbName ? { "postgres backends (run's db)": { "CPU% avg": fmt1(pgUsage.cpuAvg), "CPU% max": fmt1(pgUsage.cpuMax), "RSS MB avg": fmt1(pgUsage.rssAvgMb), "RSS MB max": fmt1(pgUsage.rssMaxMb) } } : {}),
    [`load generators ×${P}`]: { "CPU% avg": fmt1(ld.cpuAvg), "CPU% max": fmt1(ld.cpuMax), "RSS MB avg": fmt1(ld.rssAvgMb), "RSS MB max": fmt1(ld.rssMaxMb) },
    [`machine (% of all ${cores} cores)`]: { "CPU% avg": fmt1(machine.avg), "CPU% max": fmt1(machine.max), "RSS MB avg": "", "RSS MB max": "" },
    "other processes (not ours, approx.)": { "CPU% avg": fmt1(othersCpu), "CPU% max": "", "RSS MB avg": "", "RSS MB max": "" },
  });
  const facts = {
    "machine busy before start (3 s)": `${busyBefore.toFixed(0)} %`,
    "load average before / after": `${loadBefore} / ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    stations: N,
    connected,
    booted,
    "in manager (total / online)": `${stationsTotal} / ${onlineTotal}`,
    "in SSE view": view.known.size,
    "calls answered": all.count,
    "steady calls/s": Math.round(steady.count / cfg.durationSec),
    "status changes measured / not seen in view": `${v.hist.count} / ${v.missing}`,
    "SSE events (station/transaction/meter/resync)": `${view.counts.station}/${view.counts.transaction}/${view.counts.meter}/${view.counts.resync}`,
    "feed state": view.state().error ?? (view.state().connected ? "connected" : "closed"),
    counters: JSON.stringify(counters),
    "CALLERROR codes": JSON.stringify(errorCodes),
    "gateway rate-limited / timeouts / bad frames": `${sumMetric(gwMetrics, "csms_gateway_rate_limited_total")} / ${sumMetric(gwMetrics, "csms_gateway_call_timeouts_total")} / ${sumMetric(gwMetrics, "csms_gateway_bad_frames_total")}`,
    "manager batch errors": sumMetric(mgrMetrics, "csms_manager_batch_errors_total"),
    "gateway round trip mean (station→manager→station at the gateway)": `${fmtMs((sumMetric(gwMetrics, "csms_gateway_call_duration_seconds_sum", /origin="station"/) / sumMetric(gwMetrics, "csms_gateway_call_duration_seconds_count", /origin="station"/)) * 1000)} ms`,
    "manager handling mean by action (receive → publish answer, excl. per-station queue)": Object.entries(
      Object.fromEntries(
        [...mgrMetrics.matchAll(/^csms_manager_call_duration_seconds_count\{action="([^"]+)"\} (\S+)$/gm)].map((x) => [
          x[1],
          `${fmtMs((sumMetric(mgrMetrics, "csms_manager_call_duration_seconds_sum", new RegExp(`action="${x[1]}"`)) / Number(x[2])) * 1000)} ms`,
        ]),
      ),
    )
      .map(([k, val]) => `${k} ${val}`)
      .join(", "),
  };
  if (floodReport) (facts as Record<string, unknown>)["flooding station"] = `sent ${floodReport.sent}, answered ${floodReport.answered}, refused SecurityError ${floodReport.refused}, disconnected ${floodReport.disconnects}×`;
  process.stdout.write("\nRun facts:\n");
  for (const [k, val] of Object.entries(facts)) process.stdout.write(`  ${k}: ${String(val)}\n`);
  process.stdout.write(`  logs: ${runDir}\n`);

  const result = {
    runId,
    at: new Date().toISOString(),
    args: process.argv.slice(2),
    config: { N, P, broker: brokerLabel, db: args.db, manager: args.manager, ...cfg },
    row,
    detail: detailRows,
    usage: { gateway: gw, manager: mg, broker: br, load: ld, postgres: pgUsage, machine, othersCpu },
    facts,
    perSecond,
    series: sampler.series(),
  };
  writeFileSync(path.join(runDir, "result.json"), JSON.stringify(result, null, 2));
  if (args["json-out"]) appendFileSync(path.resolve(args["json-out"]), `${JSON.stringify(result)}\n`);

  view.close();
  await observer?.close();
};

main()
  .then(async () => {
    await shutdown();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    log(`logs: ${runDir}`);
    await shutdown();
    process.exit(1);
  });
