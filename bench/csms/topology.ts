import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../../lib/testing/net";

/**
 * The processes of one bench:csms run: broker, database, managers and gateways, each a child
 * on free ports with its log in the run directory, and the shutdown that kills everything
 * started here (load generators first, then gateways, managers, the rest).
 */

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");

export const runId = `${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomBytes(3).toString("hex")}`;
export const runDir = path.join(os.tmpdir(), `switchyard-bench-${runId}`);
mkdirSync(runDir, { recursive: true });
export const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

// ---------- child processes: everything we start is killed at the end ----------

export type Child = { name: string; proc: ChildProcess };
export const children: Child[] = [];
const alive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

process.on("exit", () => {
  // Last resort (uncaught error): synchronous SIGKILL of anything still running.
  for (const c of children) if (alive(c)) c.proc.kill("SIGKILL");
});

const stopChildren = async (match: (name: string) => boolean = () => true) => {
  const targets = children.filter((c) => alive(c) && match(c.name));
  for (const c of targets) c.proc.kill("SIGTERM");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && targets.some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const c of targets) if (alive(c)) c.proc.kill("SIGKILL");
};

export const state = { shuttingDown: false };
const cleanups: (() => Promise<void>)[] = [];

export const shutdown = async () => {
  if (state.shuttingDown) return;
  state.shuttingDown = true;
  const isLoad = (n: string) => n.startsWith("load");
  for (const c of children.filter((x) => isLoad(x.name))) if (alive(c) && c.proc.connected) c.proc.send({ type: "exit" });
  await stopChildren(isLoad);
  await stopChildren((n) => n.startsWith("gateway"));
  await stopChildren((n) => n.startsWith("manager"));
  await stopChildren();
  for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => log(`cleanup failed: ${(e as Error).message}`));
};

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping everything`);
    void shutdown().finally(() => process.exit(130));
  });
}

/** Spawns `node --import tsx <file>` and resolves with its `{"event":"ready",…}` line. */
export const startService = (name: string, file: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000) =>
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
      } else if (!state.shuttingDown) log(`${name} exited unexpectedly (${code ?? signal}); log: ${logFile}`);
    });
  });

export const pidsWithCmdline = (needle: string) => {
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

// ---------- broker ----------

export type Broker = { url: string; pid?: number; label: string; private: boolean };

/** A private mosquitto on a free port: MQTT 5 with $share, no connection cap, no Nagle. */
const startMosquitto = async (): Promise<Broker> => {
  const port = await freePort();
  const conf = path.join(runDir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_connections -1\nset_tcp_nodelay true\npersistence false\nmax_queued_messages 100000\n`);
  const proc = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  children.push({ name: "broker", proc });
  const logFile = path.join(runDir, "broker.log");
  proc.stdout!.on("data", (c: Buffer) => appendFileSync(logFile, c));
  proc.stderr!.on("data", (c: Buffer) => appendFileSync(logFile, c));
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
  return { url: `mqtt://127.0.0.1:${port}`, pid: proc.pid, label: "mosquitto (private, max_connections -1, set_tcp_nodelay true)", private: true };
};

export const startBroker = async (broker: string, env: NodeJS.ProcessEnv): Promise<Broker> => {
  if (broker === "embedded") {
    const { ready } = await startService("broker", path.join(here, "broker.ts"), env, 30_000);
    return { url: String(ready.url), pid: Number(ready.pid), label: "aedes (embedded)", private: true };
  }
  if (broker === "mosquitto") return startMosquitto();
  let pid: number | undefined;
  let label = `external ${broker}`;
  try {
    const pidFile = "/run/mosquitto/mosquitto.pid";
    if (/127\.0\.0\.1:1883|localhost:1883/.test(broker) && existsSync(pidFile)) {
      pid = Number(readFileSync(pidFile, "utf8").trim());
      label = "mosquitto (system, shared)";
    }
  } catch {
    // sampling the broker is a nice-to-have
  }
  return { url: broker, pid, label, private: false };
};

// ---------- database ----------

/** PGlite: a fresh data dir; postgres://…: a fresh database on that server, dropped afterwards. */
export const createDatabase = async (db: string) => {
  if (db === "pglite") {
    mkdirSync(path.join(runDir, "data"), { recursive: true });
    cleanups.push(async () => rmSync(path.join(runDir, "data"), { recursive: true, force: true }));
    return { databaseUrl: undefined, pgDbName: undefined };
  }
  const admin = new pg.Client({ connectionString: db });
  await admin.connect();
  const dbName = `switchyard_bench_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(db);
  u.pathname = `/${dbName}`;
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });
  return { databaseUrl: u.toString(), pgDbName: dbName };
};

// ---------- managers and gateways ----------

export type Service = { name: string; url: string; pid: number };

/** M managers on one database and broker (started together: migrations take an advisory lock). */
export const startManagers = async (o: { count: number; inline: boolean; env: NodeJS.ProcessEnv }) => {
  const file = o.inline ? path.join(here, "responder.ts") : path.join(root, "services/csms/manager/main.ts");
  const started = Date.now();
  const list = await Promise.all(
    Array.from({ length: o.count }, async (_, i) => {
      const { ready } = await startService(`manager${i}`, file, { ...o.env, CSMS_MANAGER_HOST: "127.0.0.1", CSMS_MANAGER_PORT: "0" });
      const url = o.inline ? "http://127.0.0.1:9" : String(ready.url);
      log(`manager${i} ready at ${url} (pid ${String(ready.pid)}, affinity ${String(ready.affinity)}, shared subscription ${String(ready.sharedSubscription)}) in ${Date.now() - started} ms`);
      // Station affinity splits the stations without $share (each manager handles the ones it owns).
      return { name: `manager${i}`, url, pid: Number(ready.pid), shared: ready.sharedSubscription === true || ready.affinity === "station" };
    }),
  );
  if (!o.inline && o.count > 1 && list.some((m) => !m.shared)) throw new Error("the broker did not honour $share subscriptions: several managers would each answer every call");
  return list;
};

/** G gateways; gateway g asks manager g % M for station auth. */
export const startGateways = async (o: { count: number; managers: Service[]; env: NodeJS.ProcessEnv }) =>
  Promise.all(
    Array.from({ length: o.count }, async (_, g) => {
      const { ready } = await startService(`gateway${g}`, path.join(root, "services/csms/gateway/main.ts"), {
        ...o.env,
        CSMS_GATEWAY_HOST: "127.0.0.1",
        CSMS_GATEWAY_PORT: "0",
        CSMS_MANAGER_URL: o.managers[g % o.managers.length].url,
        CSMS_ALLOW_ANY_STATION: "1",
      });
      log(`gateway${g} ready at ${String(ready.url)} (pid ${String(ready.pid)})`);
      return { name: `gateway${g}`, url: String(ready.url), httpUrl: String(ready.httpUrl), pid: Number(ready.pid) };
    }),
  );
