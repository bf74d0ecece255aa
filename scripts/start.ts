import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { z } from "zod";
import { siteReadySchema, type SiteReady } from "../contracts/site";
import { readCredentials } from "../lib/credentials";
import { parseEnv } from "../lib/env";
import { ensureSecrets, seedDemo } from "../server/auth/seed-demo";
import { envSchema } from "../server/env";
import { describeTarget, migrateConsoleDb, openConsoleDb, type ConsoleDb } from "./lib/console-db";

/**
 * `npm start`: one command from a fresh clone to a running console with demo users.
 * Build if stale → migrate + seed in-process → site (broker, services) → console.
 * The launcher owns its children and keeps them alive: a child that dies is restarted
 * with backoff (1 s, 2 s, 4 s, … capped) while the others keep running, so a console crash
 * never disconnects a station. Ctrl-C / SIGTERM stops everything; no stray process keeps a
 * port or the PGlite directory.
 */

const ROOT = process.cwd();
const NEXT_BIN = path.join(ROOT, "node_modules", ".bin", "next");
// Generous: on a busy 2-core machine the site migrates one embedded database per domain
// (and per monitoring region) before it is ready.
const SITE_READY_TIMEOUT_MS = 300_000;
const CONSOLE_DEGRADED_AFTER_MS = 60_000;
const CONSOLE_HEALTH_DEADLINE_MS = 180_000;
// The site flushes its modules' batches on SIGTERM (its own backstop is 4 s).
const STOP_GRACE_MS = 5_000;
// A child that stayed up this long starts over at the shortest restart delay.
const STABLE_AFTER_MS = 60_000;
// Everything a production build reads; a change in any of them makes .next stale.
const BUILD_INPUTS = ["app", "server", "contracts", "services", "components", "lib", "public", "next.config.js", "package.json", "tsconfig.json", "instrumentation.ts", "proxy.ts", "middleware.ts"];

/** The launcher's own settings (docs/configuration.md). */
const launcherEnvSchema = z.object({
  START_RESTART_BACKOFF_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  START_RESTART_MAX_BACKOFF_MS: z.coerce.number().int().min(10).max(600_000).default(30_000),
  /** Tests only: a JSON argv run instead of `next start` (it gets CONSOLE_HOST/CONSOLE_PORT). */
  START_CONSOLE_COMMAND: z
    .string()
    .transform((s, ctx) => {
      try {
        const argv = JSON.parse(s) as unknown;
        if (Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === "string")) return argv as string[];
      } catch {
        // reported below
      }
      ctx.addIssue({ code: "custom", message: 'must be a JSON array of strings, e.g. ["node","console.js"]' });
      return z.NEVER;
    })
    .optional(),
});

const say = (line: string) => process.stdout.write(`[start] ${line}\n`);
const warn = (line: string) => process.stderr.write(`[start] ${line}\n`);

class StartError extends Error {}

// ---------- children, restarts and shutdown ----------

/** `retired`: stopped on purpose (replaced), so its exit is no crash. */
type Child = { name: string; proc: ChildProcess; startedAt: number; exited: Promise<void>; retired?: boolean };
const children = new Set<Child>();
const restartTimers = new Set<NodeJS.Timeout>();
let shuttingDown = false;
let openDb: ConsoleDb | undefined;

/**
 * Tracks a child. `onCrash` runs when it dies while the launcher is not stopping; a
 * terminal's Ctrl-C reaches the children as well as us, so a short grace lets our own
 * signal handler mark the shutdown first and their exit is not taken for a crash.
 */
const track = (name: string, proc: ChildProcess, onCrash?: (child: Child, why: string) => void): Child => {
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const child: Child = { name, proc, startedAt: Date.now(), exited };
  children.add(child);
  proc.once("exit", (code, signal) => {
    children.delete(child);
    if (!onCrash || child.retired) return;
    setTimeout(() => {
      if (!shuttingDown) onCrash(child, signal ?? `exit code ${code}`);
    }, 150);
  });
  proc.once("error", (error) => {
    if (!shuttingDown) void shutdown(1, `${name} could not be started: ${error.message}`);
  });
  return child;
};

/**
 * Restarts a crashed child after a delay that doubles with every crash in a row (capped),
 * and starts over at the shortest once a child stayed up a minute.
 */
const createRestarter = ({ minMs, maxMs }: { minMs: number; maxMs: number }) => {
  const delays = new Map<string, number>();
  return (child: Child, why: string, restart: () => void) => {
    const previous = Date.now() - child.startedAt >= STABLE_AFTER_MS ? undefined : delays.get(child.name);
    const delay = previous === undefined ? minMs : Math.min(previous * 2, maxMs);
    delays.set(child.name, delay);
    warn(`${child.name} (pid ${child.proc.pid}) exited unexpectedly (${why}); restarting it in ${delay / 1000} s, the others keep running`);
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!shuttingDown) restart();
    }, delay);
    restartTimers.add(timer);
  };
};

// No pid means spawn itself failed: there is nothing to stop and no exit event to wait for.
const isRunning = (c: Child) => c.proc.pid !== undefined && c.proc.exitCode === null && c.proc.signalCode === null;

const stopChildren = async (which: Child[] = [...children]) => {
  const running = which.filter(isRunning);
  for (const c of running) c.proc.kill("SIGTERM");
  const allExited = Promise.all(running.map((c) => c.exited));
  const timedOut = await Promise.race([allExited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), STOP_GRACE_MS))]);
  if (timedOut) {
    for (const c of running.filter(isRunning)) {
      say(`${c.name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
      c.proc.kill("SIGKILL");
    }
    await Promise.race([allExited, new Promise((r) => setTimeout(r, 1000))]);
  }
};

const shutdown = async (code: number, message: string) => {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const t of restartTimers) clearTimeout(t);
  restartTimers.clear();
  (code === 0 ? say : warn)(message);
  await stopChildren();
  // Closing lets PGlite finish its writes; an interrupted data dir would need recovery.
  await openDb?.close().catch(() => {});
  process.exit(code);
};

const onSignal = (signal: NodeJS.Signals) => {
  if (shuttingDown) {
    // A second Ctrl-C means "now": no more waiting.
    for (const c of children) c.proc.kill("SIGKILL");
    process.exit(130);
  }
  void shutdown(0, `${signal} received; stopping`);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// Last resort for crashes in the launcher itself: never leave children behind.
process.on("exit", () => {
  for (const c of children) if (isRunning(c)) c.proc.kill("SIGKILL");
});

// ---------- steps ----------

const newestMtime = (entry: string): number => {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(entry) ? 0 : stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const dirent of fs.readdirSync(entry, { withFileTypes: true })) {
    if (dirent.name === "node_modules" || dirent.name.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, dirent.name)));
  }
  return newest;
};

const buildIsStale = () => {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) return "no build yet";
  const builtAt = fs.statSync(buildId).mtimeMs;
  const changed = BUILD_INPUTS.find((p) => newestMtime(path.join(ROOT, p)) > builtAt);
  return changed ? `${changed} changed since the last build` : undefined;
};

const runToCompletion = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<void>((resolve, reject) => {
    const proc = spawn(command, args, { cwd: ROOT, env, stdio: "inherit" });
    track(name, proc);
    proc.once("error", (error) => reject(new StartError(`${name} could not be started: ${error.message}`)));
    proc.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else if (!shuttingDown) reject(new StartError(`${name} failed (${signal ?? `exit code ${code}`})`));
    });
  });

/** Fails early with a readable message instead of a stack trace from inside `next start`. */
const assertPortFree = (host: string, port: number, setting: string) =>
  new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(new StartError(`${host}:${port} is not available (${error.code ?? error.message}); set ${setting} to another port`)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });

/**
 * Spawns the site and resolves with its ready line (broker, health URL, the console's
 * settings of every module). `onCrash` supervises it once it is running.
 */
const spawnSite = (env: NodeJS.ProcessEnv, onCrash: (child: Child, why: string) => void, { superviseFromStart = false } = {}) =>
  new Promise<{ child: Child; ready: SiteReady }>((resolve, reject) => {
    // tsx as a loader rather than the tsx CLI: one process, so signals reach the site itself.
    const proc = spawn(process.execPath, ["--import", "tsx", path.join("services", "site", "main.ts")], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let ready = false;
    // The first start fails the launcher when the site dies early; a restart tries again.
    const child = track("site", proc, (c, why) => {
      if (ready || superviseFromStart) onCrash(c, why);
    });
    const timer = setTimeout(() => {
      reject(new StartError(`site did not report ready within ${SITE_READY_TIMEOUT_MS / 1000} s`));
      proc.kill("SIGKILL");
    }, SITE_READY_TIMEOUT_MS);
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new StartError(`site stopped before it was ready (${signal ?? `exit code ${code}`}); see its output above`));
    });
    readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
      // Everything the site prints is already JSON logs; pass them through untouched, except
      // the ready line, which carries the console's tokens (the launcher reads it, nobody else).
      const isReadyLine = line.includes('"event":"ready"');
      if (!isReadyLine) process.stdout.write(`${line}\n`);
      if (ready || !isReadyLine) return;
      let parsed;
      try {
        parsed = siteReadySchema.safeParse(JSON.parse(line));
      } catch {
        return; // a log line that merely mentions the text; keep waiting for the real one
      }
      if (!parsed.success) return;
      ready = true;
      clearTimeout(timer);
      resolve({ child, ready: parsed.data });
    });
  });

type Health = "healthy" | "degraded";

/**
 * One request on its own connection. fetch would keep an idle keep-alive socket open to
 * the console, and `next start` waits for open connections when asked to stop.
 */
const httpStatus = (url: string) =>
  new Promise<number>((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });

const waitForConsole = async (url: string): Promise<Health> => {
  const started = Date.now();
  let last = "no answer yet";
  while (!shuttingDown) {
    const elapsed = Date.now() - started;
    try {
      const status = await httpStatus(url);
      if (status === 200) return "healthy";
      // 503 means "running, but a dependency is not ready"; give dependencies a minute first.
      if (status === 503 && elapsed >= CONSOLE_DEGRADED_AFTER_MS) return "degraded";
      last = `HTTP ${status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (elapsed >= CONSOLE_HEALTH_DEADLINE_MS) throw new StartError(`console not healthy after ${CONSOLE_HEALTH_DEADLINE_MS / 1000} s (last: ${last})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return "degraded";
};

const printLogins = (dataDir: string) => {
  const logins = readCredentials(dataDir).logins ?? [];
  if (!logins.length) {
    say("no demo logins stored (users existed before the first seed); use your own accounts");
    return;
  }
  const rows = [["role", "email", "password"], ...logins.map((l) => [l.participantId ? `${l.role} (${l.participantId})` : l.role, l.email, l.password])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `  ${r.map((cell, i) => cell.padEnd(widths[i])).join("  ")}`.trimEnd();
  process.stdout.write(`\nDemo logins (also in ${path.join(dataDir, "credentials.json")}):\n`);
  process.stdout.write(`${line(rows[0])}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
  for (const r of rows.slice(1)) process.stdout.write(`${line(r)}\n`);
};

const loopbackFor = (host: string) => (host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "[::1]" : net.isIPv6(host) ? `[${host}]` : host);

/** The console's environment: what the site bound, the console's own broker account, every module's settings. */
const consoleEnvFor = ({ dataDir, betterAuthSecret, site }: { dataDir: string; betterAuthSecret: string; site: SiteReady }): NodeJS.ProcessEnv => {
  // An explicit MQTT_USERNAME (one account on an external broker) wins; otherwise the
  // console logs in with its own read-only account, which the site generated.
  const account = process.env.MQTT_USERNAME ? undefined : readCredentials(dataDir).mqtt?.console;
  return {
    ...process.env,
    NODE_ENV: "production",
    SWITCHYARD_DATA_DIR: dataDir,
    SWITCHYARD_SERVICE: "console",
    BETTER_AUTH_SECRET: process.env.BETTER_AUTH_SECRET || betterAuthSecret,
    MQTT_URL: site.mqttUrl,
    SITE_URL: site.httpUrl,
    ...(account ? { MQTT_USERNAME: account.username, MQTT_PASSWORD: account.password } : {}),
    ...site.consoleEnv,
  };
};

const sameSite = (a: SiteReady, b: SiteReady) => a.mqttUrl === b.mqttUrl && a.httpUrl === b.httpUrl && JSON.stringify(a.consoleEnv) === JSON.stringify(b.consoleEnv);

const main = async () => {
  let e: z.infer<typeof envSchema>;
  let launcher: z.infer<typeof launcherEnvSchema>;
  try {
    e = parseEnv(envSchema);
    launcher = parseEnv(launcherEnvSchema);
  } catch (error) {
    throw new StartError((error as Error).message);
  }
  const dataDir = path.resolve(e.SWITCHYARD_DATA_DIR);
  // An operator console should not phone home unless asked to; an explicit setting wins.
  process.env.NEXT_TELEMETRY_DISABLED ??= "1";

  // a. Secrets first: the build and every process after it may read them.
  const secrets = ensureSecrets(dataDir);
  say(`data dir ${dataDir}`);

  // b. Build only when something the build reads changed (not for a stand-in console).
  if (launcher.START_CONSOLE_COMMAND) say(`console command: ${launcher.START_CONSOLE_COMMAND.join(" ")}`);
  else if (process.env.SWITCHYARD_SKIP_BUILD === "1") say("skipping build (SWITCHYARD_SKIP_BUILD=1)");
  else {
    const reason = buildIsStale();
    if (reason) {
      say(`building the console (${reason}); this takes a minute`);
      await runToCompletion("next build", NEXT_BIN, ["build"], { ...process.env, NODE_ENV: "production" });
    } else say("console build is up to date");
  }
  if (!launcher.START_CONSOLE_COMMAND && !fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new StartError("no console build in .next; run without SWITCHYARD_SKIP_BUILD=1");

  // c. One open of the database for both steps, closed before the console opens it.
  openDb = await openConsoleDb({ dataDir, databaseUrl: e.DATABASE_URL });
  say(`database: ${describeTarget(openDb.target)}`);
  const { applied } = await migrateConsoleDb({ db: openDb, log: (l) => say(l) });
  if (!applied.length) say("database schema is up to date");
  const seeded = await seedDemo(openDb.prisma(), { dataDir, regions: e.MONITORING_REGIONS });
  say(seeded.created ? "created demo users" : "users exist; demo seed skipped");
  await openDb.close();
  openDb = undefined;

  await assertPortFree(e.CONSOLE_HOST, e.CONSOLE_PORT, "CONSOLE_PORT");
  const restartLater = createRestarter({ minMs: launcher.START_RESTART_BACKOFF_MS, maxMs: launcher.START_RESTART_MAX_BACKOFF_MS });

  // e. The console, pointed at whatever the site actually bound; restarted when it dies.
  let consoleChild: Child | undefined;
  const startConsole = (site: SiteReady) => {
    const env = consoleEnvFor({ dataDir, betterAuthSecret: secrets.betterAuthSecret, site });
    const [command, ...args] = launcher.START_CONSOLE_COMMAND ?? [NEXT_BIN, "start", "-H", e.CONSOLE_HOST, "-p", String(e.CONSOLE_PORT)];
    const proc = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    consoleChild = track("console", proc, (child, why) => restartLater(child, why, () => startConsole(currentSite)));
    say(`console started (pid ${proc.pid}) on ${e.CONSOLE_HOST}:${e.CONSOLE_PORT}`);
  };

  // d. The site: embedded broker (unless MQTT_URL is set), every module and its simulators.
  const siteEnv: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_SERVICE: "site" };
  const describeSite = ({ ready, child }: { ready: SiteReady; child: Child }) =>
    `site ready (pid ${child.proc.pid}): mqtt ${ready.mqttUrl}, health ${ready.httpUrl}/health${Object.entries(ready.consoleEnv)
      // Tokens and secrets stay out of the terminal and its scrollback; URLs are what a human needs.
      .map(([k, v]) => `, ${k}=${/(SECRET|TOKEN|PASSWORD|KEY)/.test(k) ? "***" : v}`)
      .join("")}`;
  const onSiteCrash = (child: Child, why: string) =>
    restartLater(child, why, () => {
      spawnSite(siteEnv, onSiteCrash, { superviseFromStart: true }).then(
        (started) => {
          say(describeSite(started));
          // Free ports (0) may come back different: the console must follow them.
          if (sameSite(started.ready, currentSite)) return;
          currentSite = started.ready;
          if (!consoleChild || !isRunning(consoleChild)) return;
          say("the site's addresses changed; restarting the console to follow them");
          const old = consoleChild;
          old.retired = true;
          consoleChild = undefined;
          void stopChildren([old]).then(() => {
            if (!shuttingDown) startConsole(currentSite);
          });
        },
        // It died (or hung) during its start; its exit schedules the next, longer-delayed attempt.
        (error: Error) => warn(`site restart failed: ${error.message}`),
      );
    });
  say(e.MQTT_URL ? `starting site (external broker ${e.MQTT_URL})` : `starting site (embedded broker on port ${e.MQTT_PORT})`);
  const first = await spawnSite(siteEnv, onSiteCrash);
  let currentSite = first.ready;
  say(describeSite(first));

  startConsole(currentSite);
  const reachable = `http://${loopbackFor(e.CONSOLE_HOST)}:${e.CONSOLE_PORT}`;
  const health = await waitForConsole(`${reachable}/api/health`);
  if (shuttingDown) return;

  // f. What the user needs to get in.
  const url = e.PUBLIC_URL ?? reachable;
  process.stdout.write(`\nSwitchyard is running${health === "degraded" ? " (DEGRADED: /api/health answers 503; see the logs above)" : ""}: ${url}\n`);
  printLogins(dataDir);
  process.stdout.write("\nCtrl-C to stop\n");
};

main().catch((error: unknown) => {
  if (shuttingDown) return;
  const message = error instanceof StartError ? error.message : `unexpected error: ${(error as Error).stack ?? String(error)}`;
  void shutdown(1, `start failed: ${message}`);
});
