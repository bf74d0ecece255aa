import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Page } from "@playwright/test";
import WebSocket from "ws";
import { BRIDGE_PATH, INTERNAL_PATH } from "../../contracts/rmf";
import { buildBuilding } from "../../sim/rmf/building";

/**
 * `npm run bench:rmf-map -- [--robots 200] [--duration 20] [--json-out FILE]`
 *
 * The console's robots map in a real Chromium with R robots moving at 10 Hz. Each piece is
 * its own process as in production: RMF main, one proxy, the console (`npm start` with no
 * site domains; its robots connector reads through the proxy). This process drives the
 * robots through main's `/_internal` (fleet adapters' path, 10 robots per fleet) and runs
 * the browser. Three phases, same page: robots moving; the same fleet standing still (the
 * page's own cost); and a bare page moving R SVG circles at 10 Hz without the app (what the
 * browser costs). Prints frame times (rAF deltas p50/p99/max, frames over 50 ms) and the
 * update rates: sent by the adapters, received by the map, drawn by it.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const { values: args } = parseArgs({ options: { robots: { type: "string", default: "200" }, duration: { type: "string", default: "20" }, "json-out": { type: "string" } } });
const R = Number(args.robots);
const durationS = Number(args.duration);
if (!Number.isInteger(R) || R < 1 || R > 2000 || !Number.isInteger(durationS) || durationS < 3) {
  process.stderr.write("usage: npm run bench:rmf-map -- [--robots 1..2000] [--duration ≥3 s] [--json-out FILE]\n");
  process.exit(2);
}
const FLEET = 10;
const HZ = 10;

const children: ChildProcess[] = [];
const say = (line: string) => process.stderr.write(`[bench:rmf-map] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secret = randomBytes(24).toString("base64url");
const internalToken = randomBytes(24).toString("base64url");
const issuer = "bench";
const rmfDir = mkdtempSync(path.join(os.tmpdir(), "bench-rmf-map-"));
const consoleDir = mkdtempSync(path.join(os.tmpdir(), "bench-rmf-map-console-"));
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

const startTsx = (script: string, env: Record<string, string>) =>
  new Promise<{ proc: ChildProcess; ready: Record<string, unknown> }>((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "inherit"] });
    children.push(proc);
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (line.startsWith('{"event":"ready"')) resolve({ proc, ready: JSON.parse(line) as Record<string, unknown> });
    });
    proc.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });

const openSocket = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${internalToken}` } });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);

type Phase = { phase: string; seconds: number; frames: number; p50: number; p99: number; max: number; over50: number; sentPerSec: number; receivedPerSec: number; drawnPerSec: number; skipped: number };

/** rAF deltas for `seconds`, and the map's counters over the same window. */
const measure = async (page: Page, phase: string, seconds: number, sent: () => number): Promise<Phase> => {
  const read = async () => (await page.evaluate("({ ...(window.__switchyardMapStats ?? { received: 0, drawn: 0, skipped: 0, frames: 0 }) })")) as { received: number; drawn: number; skipped: number; frames: number };
  const before = await read();
  const sentBefore = sent();
  // Strings, not functions: tsx's transform would name inner functions with a helper the page lacks.
  await page.evaluate(`(() => {
    window.__deltas = [];
    window.__measuring = true;
    let last = performance.now();
    const tick = (t) => {
      window.__deltas.push(t - last);
      last = t;
      if (window.__measuring) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const deltas = (await page.evaluate("(() => { window.__measuring = false; return window.__deltas.slice(1); })()")) as number[];
  const s = (Date.now() - t0) / 1000;
  const after = await read();
  const sorted = [...deltas].sort((a, b) => a - b);
  return {
    phase,
    seconds: s,
    frames: deltas.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
    over50: deltas.filter((d) => d > 50).length,
    sentPerSec: (sent() - sentBefore) / s,
    receivedPerSec: (after.received - before.received) / s,
    drawnPerSec: (after.drawn - before.drawn) / s,
    skipped: after.skipped - before.skipped,
  };
};

const main = async () => {
  const common = { RMF_JWT_SECRET: secret, RMF_JWT_ISSUER: issuer, RMF_INTERNAL_TOKEN: internalToken, SWITCHYARD_DATA_DIR: rmfDir };
  const rmfMain = await startTsx("services/rmf/main/main.ts", { ...common, RMF_MAIN_PORT: "0" });
  const mainUrl = rmfMain.ready.url as string;
  const proxy = await startTsx("services/rmf/proxy/main.ts", { ...common, RMF_PROXY_PORT: "0", RMF_MAIN_URL: mainUrl, RMF_PROXY_ID: "bench-map-proxy" });
  const proxyUrl = proxy.ready.url as string;
  say(`main ${mainUrl}, proxy ${proxyUrl}`);

  // The building (the simulator's), published the way RMF would: on the bridge.
  const { map } = buildBuilding({ chargers: 8 });
  const bridge = await openSocket(`${mainUrl.replace(/^http/, "ws")}${BRIDGE_PATH}`);
  bridge.send(JSON.stringify({ op: "publish", topic: "map", msg: map }));

  // R robots in fleets of 10 on L1, each on its own small circle, reported at 10 Hz.
  const feed = await openSocket(`${mainUrl.replace(/^http/, "ws")}${INTERNAL_PATH}`);
  const fleets = Math.ceil(R / FLEET);
  let moving = true;
  let sent = 0;
  let t = 0;
  const report = () => {
    if (moving) t += 1 / HZ;
    for (let f = 0; f < fleets; f++) {
      const robots: Record<string, unknown> = {};
      for (let i = f * FLEET; i < Math.min(R, (f + 1) * FLEET); i++) {
        const [col, row] = [i % 25, Math.floor(i / 25)];
        const a = t * 0.8 + i;
        robots[`r${i}`] = { name: `r${i}`, status: "working", task_id: null, unix_millis_time: Date.now(), location: { map: "L1", x: -1 + col * 1.9 + 0.6 * Math.cos(a), y: -8 + row * 2 + 0.6 * Math.sin(a), yaw: a + Math.PI / 2 }, battery: 0.8, issues: [] };
        if (moving) sent++;
      }
      feed.send(JSON.stringify({ type: "fleet_state_update", data: { name: `fleet${f}`, robots } }));
    }
  };
  const timer = setInterval(report, 1000 / HZ);
  const setMoving = (on: boolean) => {
    moving = on;
  };

  // The console as npm start runs it, with no site domain but robots, pointed at this RMF.
  const port = await freePort();
  say(`starting the console on ${port} (npm start; builds first if the build is stale)`);
  const consoleProc = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: root,
    env: {
      ...process.env,
      SWITCHYARD_DATA_DIR: consoleDir,
      CONSOLE_PORT: String(port),
      MQTT_PORT: "0",
      SITE_PORT: "0",
      SITE_CSMS: "0",
      SITE_RMF: "0",
      SITE_FLEX: "0",
      SITE_MONITORING: "0",
      CSMS_MANAGER_URL: "off",
      RMF_URL: proxyUrl,
      RMF_MAIN_URL: mainUrl,
      RMF_JWT_SECRET: secret,
      RMF_JWT_ISSUER: issuer,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  children.push(consoleProc);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 900_000;
  while (!(await fetch(`${base}/api/health`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline || consoleProc.exitCode !== null) throw new Error("the console did not come up");
    await sleep(1000);
  }
  const login = (JSON.parse(readFileSync(path.join(consoleDir, "credentials.json"), "utf8")) as { logins: { role: string; email: string; password: string }[] }).logins.find((l) => l.role === "viewer")!;

  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(`${base}/login`);
  await page.waitForLoadState("networkidle");
  await page.getByLabel("Email").fill(login.email);
  await page.getByLabel("Password").fill(login.password);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 60_000 });
  await page.goto(`${base}/robots?level=L1`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="map-robot-"]').length >= n, R, { timeout: 120_000 });
  say(`${R} robots on the map; warming up 3 s`);
  await sleep(3000);

  const results: Phase[] = [];
  results.push(await measure(page, `map, ${R} robots moving at ${HZ} Hz`, durationS, () => sent));
  // The same page with a static fleet: the adapters stop reporting.
  setMoving(false);
  clearInterval(timer);
  await sleep(1000);
  results.push(await measure(page, `map, the same ${R} robots, no updates`, durationS, () => sent));

  // Without the app: R circles moved by setInterval at 10 Hz, one attribute write each.
  await page.setContent(`<svg width="1200" height="600" viewBox="0 0 50 25">${Array.from({ length: R }, (_, i) => `<circle id="c${i}" r="0.5" fill="#1f9d4e"/>`).join("")}</svg>`);
  await page.evaluate(`(() => {
    const n = ${R}, hz = ${HZ};
    const stats = (window.__switchyardMapStats = { received: 0, drawn: 0, skipped: 0, frames: 0 });
    const nodes = Array.from({ length: n }, (_, i) => document.getElementById("c" + i));
    let t = 0;
    setInterval(() => {
      t += 1 / hz;
      nodes.forEach((c, i) => c.setAttribute("transform", "translate(" + (1 + (i % 25) * 1.9 + 0.6 * Math.cos(t + i)) + " " + (2 + Math.floor(i / 25) * 2 + 0.6 * Math.sin(t + i)) + ")"));
      stats.received += n;
      stats.drawn += n;
    }, 1000 / hz);
  })()`);
  results.push(await measure(page, `bare page, ${R} SVG circles moved at ${HZ} Hz (no app)`, durationS, () => 0));
  await browser.close();

  const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
  const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "–");
  const header = ["phase", "frames", "frame p50 ms", "p99 ms", "max ms", "frames > 50 ms", "updates sent/s", "received/s", "drawn/s", "overtaken before drawn"];
  const rows = results.map((r) => [r.phase, f0(r.frames), f1(r.p50), f1(r.p99), f1(r.max), f0(r.over50), f0(r.sentPerSec), f0(r.receivedPerSec), f0(r.drawnPerSec), f0(r.skipped)]);
  process.stdout.write(`\n| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|\n${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}\n\n`);
  process.stdout.write(`${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}; ${durationS} s per phase\n`);
  if (args["json-out"]) appendFileSync(args["json-out"], `${JSON.stringify({ at: new Date().toISOString(), robots: R, durationS, results })}\n`);
};

const stop = () => {
  for (const c of children) {
    if (c.exitCode !== null) continue;
    // The console runs detached with its own children (site, next): stop its whole group.
    try {
      if (c.pid) process.kill(-c.pid, "SIGTERM");
    } catch {
      c.kill("SIGTERM");
    }
  }
};
main()
  .then(() => {
    stop();
    setTimeout(() => process.exit(0), 3000);
  })
  .catch((error: unknown) => {
    say(`failed: ${(error as Error).stack ?? String(error)}`);
    stop();
    setTimeout(() => process.exit(1), 3000);
  });
