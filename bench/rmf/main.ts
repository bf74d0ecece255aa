import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { metricValue } from "../../services/csms/manager/harness";
import { signToken } from "../../services/rmf/lib/jwt";
import { Histogram } from "../csms/hist";
import { createSampler, type Usage } from "../csms/procstat";
import type { ClientsInit, ClientsReport } from "./clients";

/**
 * `npm run bench:rmf -- --robots R --clients C --proxies P [--duration S] [--fleet-size F]
 *   [--rooms-per-client K] [--client-procs L] [--path both|proxies|direct] [--json-out FILE]`
 *
 * RMF main, P proxies, the fleet simulator (R robots at 10 Hz) and L client processes, each
 * its own process. Clients subscribe to fleet-state rooms (spread round-robin) through the
 * proxies, then — same main, same simulator — straight to main. Prints events in/s,
 * deliveries/s, event → client latency (p50/p99/max), CPU and RSS per process.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

const { values: args } = parseArgs({
  options: {
    robots: { type: "string", default: "200" },
    clients: { type: "string", default: "1000" },
    proxies: { type: "string", default: "2" },
    duration: { type: "string", default: "30" },
    "fleet-size": { type: "string", default: "10" },
    "rooms-per-client": { type: "string", default: "1" },
    "client-procs": { type: "string" },
    "connect-per-sec": { type: "string", default: "400" },
    path: { type: "string", default: "both" },
    "quiet-wait": { type: "string", default: "120" },
    client: { type: "string", default: "raw" },
    "json-out": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
const USAGE = `usage: npm run bench:rmf -- --robots R --clients C --proxies P [options]
  --robots R            simulated robots publishing at 10 Hz (default 200)
  --clients C           socket.io clients (default 1000)
  --proxies P           fan-out proxies the clients are spread over (default 2)
  --duration S          measured seconds per path (default 30)
  --fleet-size F        robots per fleet, i.e. per fleet-state room (default 10)
  --rooms-per-client K  fleet rooms each client subscribes to (default 1)
  --client-procs L      client processes (default ceil(C / 500); ≤ 5,000 sockets each)
  --connect-per-sec N   client connects per second per process (default 400)
  --path both|proxies|direct   which paths to measure (default both)
  --quiet-wait S        first wait up to S s for the machine to be < 25 % busy (a shared 2-core box skews every number; 0 = don't)
  --client raw|socket.io  raw: socket.io v4 frames over a bare websocket, stamp read without a full parse (default);
                        socket.io: socket.io-client parsing every event (a heavier load generator)
  --json-out FILE       append the result as one JSON line`;
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const int = (name: string, min: number, max: number) => {
  const n = Number(args[name as keyof typeof args]);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be an integer in [${min}, ${max}]\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
};
const R = int("robots", 1, 5000);
const C = int("clients", 1, 100_000);
const P = int("proxies", 0, 16);
const durationS = int("duration", 1, 3600);
const fleetSize = int("fleet-size", 1, 1000);
const roomsPerClient = int("rooms-per-client", 1, 1000);
const L = args["client-procs"] ? int("client-procs", 1, 64) : Math.max(1, Math.ceil(C / 500));
const connectPerSec = int("connect-per-sec", 1, 100_000);
if (C / L > 5000) {
  process.stderr.write(`${Math.ceil(C / L)} sockets per client process exceeds 5,000 (20,000 open files per process); use --client-procs ${Math.ceil(C / 5000)} or more\n`);
  process.exit(2);
}
const clientKind = args.client === "socket.io" ? "socket.io" : "raw";
const paths = args.path === "both" ? (P > 0 ? ["proxies", "direct"] : ["direct"]) : [args.path!];
if (paths.some((p) => p !== "proxies" && p !== "direct") || (paths.includes("proxies") && P === 0)) {
  process.stderr.write(`--path must be both, proxies (needs --proxies ≥ 1) or direct\n`);
  process.exit(2);
}

const children: ChildProcess[] = [];
const secret = randomBytes(24).toString("base64url");
const internalToken = randomBytes(24).toString("base64url");
const issuer = "bench";
const dataDir = mkdtempSync(path.join(os.tmpdir(), "bench-rmf-"));

/** Starts `node --import tsx <script>` and resolves with its ready line. */
const startTsx = (script: string, env: Record<string, string>, argv: string[] = []) =>
  new Promise<{ proc: ChildProcess; ready: Record<string, unknown> }>((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", script, ...argv], { cwd: root, env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "inherit"] });
    children.push(proc);
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (line.startsWith('{"event":"ready"')) resolve({ proc, ready: JSON.parse(line) as Record<string, unknown> });
    });
    proc.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });

const common = { RMF_JWT_SECRET: secret, RMF_JWT_ISSUER: issuer, SWITCHYARD_DATA_DIR: dataDir, RMF_MAX_ROOMS_PER_SOCKET: "100000", RMF_SUBSCRIBES_PER_SEC: "100000" };
const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const killAll = (list: ChildProcess[]) => {
  for (const c of list) if (c.exitCode === null) c.kill("SIGKILL");
};

type PathResult = { path: string; eventsInPerSec: number; deliveriesPerSec: number; robotUpdatesPerSec: number; p50: number; p99: number; max: number; samples: number; errors: number; disconnects: number; usage: Record<string, Usage>; machineCpu: number; othersCpu: number };

/** Busy share of the whole machine over `ms` (0–100 % of all cores). */
const machineBusy = async (ms: number) => {
  const read = () => {
    const v = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: v[3] + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return b.total > a.total ? 100 * (1 - (b.idle - a.idle) / (b.total - a.total)) : 0;
};

const runPath = async (which: string, mainUrl: string, mainPid: number, simPid: number): Promise<PathResult> => {
  const proxies = which === "proxies" ? await Promise.all(Array.from({ length: P }, (_, i) => startTsx("services/rmf/proxy/main.ts", { ...common, RMF_PROXY_PORT: "0", RMF_MAIN_URL: mainUrl, RMF_PROXY_ID: `bench-proxy-${i}` }))) : [];
  const urls = which === "proxies" ? proxies.map((p) => p.ready.url as string) : [mainUrl];
  const token = await signToken({ secret, issuer, username: "bench", permissions: ["task_read"], expiresIn: "2h" });
  const fleets = Array.from({ length: Math.ceil(R / fleetSize) }, (_, i) => ["tinyRobot", "deliveryRobot", "cleanerBot", "hospitalBot", "caddy", "porter", "scout", "runner"][i] ?? `fleet_${i}`);
  const perProc = Math.ceil(C / L);
  const loaders = Array.from({ length: L }, (_, i) => {
    const init: ClientsInit = { urls, first: i * perProc, count: Math.max(0, Math.min(perProc, C - i * perProc)), fleets, roomsPerClient, token, connectPerSec, kind: clientKind };
    const child = fork(path.join(here, "clients.ts"), [], { execArgv: ["--import", "tsx"], env: { ...process.env, BENCH_RMF_CLIENTS: JSON.stringify(init) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.push(child);
    return { child, status: { connected: 0, subscribed: 0, errors: 0 }, report: undefined as ClientsReport | undefined };
  });
  for (const l of loaders)
    l.child.on("message", (m: { kind: string; report?: ClientsReport } & typeof l.status) => {
      if (m.kind === "status") l.status = m;
      if (m.kind === "report") l.report = m.report;
    });
  const want = C * roomsPerClient;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const subscribed = loaders.reduce((s, l) => s + l.status.subscribed, 0);
    if (subscribed >= want) break;
    if (Date.now() > deadline) throw new Error(`only ${subscribed} of ${want} subscriptions after 120 s`);
    await sleep(250);
  }
  process.stderr.write(`[bench:rmf] ${which}: ${C} clients subscribed to ${want} rooms; warming up 3 s\n`);
  await sleep(3000);
  const sampler = createSampler({ main: () => [mainPid], proxies: () => proxies.map((p) => p.proc.pid!), sim: () => [simPid], clients: () => loaders.map((l) => l.child.pid!) });
  const before = metricValue(await scrape(mainUrl), "rmf_internal_messages_total", { type: "fleet_state_update", outcome: "ok" });
  for (const l of loaders) l.child.send({ kind: "start" });
  sampler.start();
  const t0 = Date.now();
  await sleep(durationS * 1000);
  for (const l of loaders) l.child.send({ kind: "stop" });
  const seconds = (Date.now() - t0) / 1000;
  const after = metricValue(await scrape(mainUrl), "rmf_internal_messages_total", { type: "fleet_state_update", outcome: "ok" });
  sampler.stop();
  const reportDeadline = Date.now() + 30_000;
  while (loaders.some((l) => !l.report) && Date.now() < reportDeadline) await sleep(100);
  const hist = new Histogram();
  let deliveries = 0;
  let robotUpdates = 0;
  let errors = 0;
  let disconnects = 0;
  for (const l of loaders) {
    if (!l.report) continue;
    hist.add(l.report.hist);
    deliveries += l.report.deliveries;
    robotUpdates += l.report.robotUpdates;
    errors += l.report.errors;
    disconnects += l.report.disconnects;
  }
  killAll([...proxies.map((p) => p.proc), ...loaders.map((l) => l.child)]);
  return {
    path: which === "proxies" ? `${P} proxies` : "main direct",
    eventsInPerSec: (after - before) / seconds,
    deliveriesPerSec: deliveries / seconds,
    robotUpdatesPerSec: robotUpdates / seconds,
    p50: hist.quantile(0.5),
    p99: hist.quantile(0.99),
    max: hist.max,
    samples: hist.count,
    errors,
    disconnects,
    usage: { main: sampler.usage("main"), proxies: sampler.usage("proxies"), sim: sampler.usage("sim"), clients: sampler.usage("clients") },
    machineCpu: sampler.machine().avg,
    // CPU% (of one core) used by everything this run did not start.
    othersCpu: sampler.machine().avg * os.cpus().length - ["main", "proxies", "sim", "clients"].reduce((sum, g) => sum + (sampler.usage(g).cpuAvg || 0), 0),
  };
};

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "–");
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
const md = (rows: Record<string, string | number>[]) => {
  const cols = Object.keys(rows[0]);
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(cols), line(cols.map(() => "---")), ...rows.map((r) => line(cols.map((c) => r[c])))].join("\n");
};

const main = async () => {
  const quietWait = Number(args["quiet-wait"]);
  for (const until = Date.now() + quietWait * 1000; Date.now() < until; ) {
    const busy = await machineBusy(3000);
    if (busy < 25) break;
    process.stderr.write(`[bench:rmf] machine ${busy.toFixed(0)} % busy; waiting for it to settle\n`);
  }
  const started = await startTsx("services/rmf/main/main.ts", { ...common, RMF_MAIN_PORT: "0", RMF_INTERNAL_TOKEN: internalToken, RMF_INTERNAL_MAX_MSGS_PER_SEC: "100000" });
  const mainUrl = started.ready.url as string;
  const sim = await startTsx("sim/rmf/main.ts", {}, ["--robots", String(R), "--fleets", String(Math.ceil(R / fleetSize)), "--url", mainUrl, "--token", internalToken, "--events", "off", "--auto-tasks", "20", "--seed", "1"]);
  process.stderr.write(`[bench:rmf] main ${mainUrl}, ${R} robots in ${Math.ceil(R / fleetSize)} fleets at 10 Hz; settling 5 s\n`);
  await sleep(5000);
  const results: PathResult[] = [];
  for (const which of paths) results.push(await runPath(which, mainUrl, started.proc.pid!, sim.proc.pid!));
  killAll(children);

  const rows = results.map((r) => ({
    path: r.path,
    "events in/s": f0(r.eventsInPerSec),
    "deliveries/s": f0(r.deliveriesPerSec),
    "robot updates/s to clients": f0(r.robotUpdatesPerSec),
    "p50 ms": f1(r.p50),
    "p99 ms": f1(r.p99),
    "max ms": f0(r.max),
    "errors / disconnects": `${r.errors} / ${r.disconnects}`,
    "others CPU %": f0(r.othersCpu),
  }));
  const usage = results.flatMap((r) =>
    Object.entries(r.usage)
      .filter(([, u]) => u.samples > 0)
      .map(([name, u]) => ({ path: r.path, process: name === "proxies" ? `proxies (${P})` : name === "clients" ? `clients (${L} procs)` : name, "CPU % avg": f0(u.cpuAvg), "CPU % max": f0(u.cpuMax), "RSS MB avg": f0(u.rssAvgMb), "RSS MB max": f0(u.rssMaxMb) })),
  );
  const ratio = results.length === 2 ? results[0].p99 / results[1].p99 : Number.NaN;
  process.stdout.write(`\nbench:rmf  robots=${R} (fleets of ${fleetSize}) clients=${C} rooms/client=${roomsPerClient} proxies=${P} duration=${durationS}s client procs=${L} (${clientKind} clients)\n\n${md(rows)}\n\n${md(usage)}\n\n`);
  if (Number.isFinite(ratio)) process.stdout.write(`p99 through proxies / p99 straight from main: ${ratio.toFixed(2)}; machine CPU (all cores, avg): ${results.map((r) => `${r.path} ${f0(r.machineCpu)} %`).join(", ")}\n`);
  if (args["json-out"]) appendFileSync(args["json-out"], `${JSON.stringify({ at: new Date().toISOString(), config: { R, C, P, durationS, fleetSize, roomsPerClient, L, clientKind }, results })}\n`);
};

const cleanup = () => {
  killAll(children);
  rmSync(dataDir, { recursive: true, force: true });
};
process.on("SIGINT", () => (cleanup(), process.exit(130)));
main().then(
  () => (cleanup(), process.exit(0)),
  (error: unknown) => {
    process.stderr.write(`bench:rmf failed: ${(error as Error).message}\n`);
    cleanup();
    process.exit(1);
  },
);
