import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Page } from "@playwright/test";
import { freePort } from "../../lib/testing/net";
import { startFakeManager, type FakeManager } from "./fake-manager";

/**
 * `npm run bench:console -- [--stations 50000] [--baseline 1000] [--duration 10] [--change-pct 1] [--json-out FILE]`
 *
 * The console's stations page in a real Chromium (Playwright, /usr/bin/chromium), served by
 * `npm start`'s console (the production build) with the site's own domains switched off and
 * the charging connector pointed at a stand-in manager (bench/console/fake-manager.ts: the
 * manager's snapshot + SSE contract, N stations in memory, no websockets). Per scenario:
 * time to first rows and to the whole fleet in the table, frame times while the given share
 * of stations changes every second, long tasks, and the page's JS heap after a GC.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

const { values: args } = parseArgs({
  options: {
    stations: { type: "string", default: "50000" },
    baseline: { type: "string", default: "1000" },
    duration: { type: "string", default: "10" },
    "change-pct": { type: "string", default: "1" },
    "json-out": { type: "string" },
    "keep-data": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  process.stdout.write(
    "usage: npm run bench:console -- [--stations N] [--baseline B] [--duration S] [--change-pct P] [--json-out FILE]\n" +
      "  --stations N    the large fleet (default 50000)\n  --baseline B    the small fleet beside it (default 1000)\n" +
      "  --duration S    measured seconds per scenario (default 10)\n  --change-pct P  share of stations changing each second (default 1)\n  --keep-data     keep the temporary data dir\n",
  );
  process.exit(0);
}
const N = Number(args.stations);
const BASELINE = Number(args.baseline);
const DURATION_S = Number(args.duration);
const CHANGE_PCT = Number(args["change-pct"]);

const say = (line: string) => process.stderr.write(`[bench:console] ${line}\n`);

/** `npm start` (scripts/start.ts) with only the console doing work: no simulated domain runs in the site. */
const startConsole = async (fake: FakeManager, dataDir: string) => {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "start.ts")], {
    cwd: root,
    env: {
      ...process.env,
      SWITCHYARD_DATA_DIR: dataDir,
      CONSOLE_PORT: String(port),
      MQTT_PORT: "0",
      SITE_PORT: "0",
      CSMS_MANAGER_PORT: "0",
      CSMS_GATEWAY_PORT: "0",
      RMF_MAIN_PORT: "0",
      RMF_PROXY_PORT: "0",
      SITE_FLEX_TSO_PORT: "0",
      SITE_FLEX_DSO_PORT: "0",
      MONITORING_PORT: "0",
      SITE_CSMS: "0",
      SITE_RMF: "0",
      SITE_FLEX: "0",
      SITE_MONITORING: "0",
      CSMS_MANAGER_URL: fake.url,
      CSMS_API_TOKEN: fake.token,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(/Switchyard is running[^:]*: (http\S+)/);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`npm start exited (${code}) before the console was up:\n${out.slice(-2000)}`)));
  });
  return { url, stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM")))) };
};

type Login = { role: string; email: string; password: string };

const signIn = async (page: Page, base: string, { email, password }: Login) => {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 60_000 });
};

type Scenario = { name: string; stations: number; changesPerSec: number };
type Result = Scenario & {
  firstRowsMs: number;
  allRowsMs: number;
  frames: number;
  frameP50: number;
  frameP95: number;
  frameP99: number;
  frameMax: number;
  framesOver50: number;
  longTasks: number;
  longTaskMs: number;
  heapMb: number;
  updatesSeen: number;
};

/**
 * What runs in the page, as source text (tsx would wrap a function passed to evaluate in its
 * own helpers, which the page does not have): every frame's length for `seconds`, the long
 * tasks meanwhile, and how many rows' data changed on screen (proof the updates reach the
 * table; the ticking "Last seen" text does not count).
 */
const SAMPLE_IN_PAGE = `async (seconds) => {
  const frames = [];
  const longTasks = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  try { observer.observe({ type: "longtask", buffered: false }); } catch {}
  const seen = new Set();
  const rowsObserver = new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      // "Last seen" ticks every second by itself; count rows whose data changed.
      if (!el || el.closest("time")) continue;
      const row = el.closest('[data-testid^="station-row-"]');
      if (row) seen.add(row.getAttribute("data-testid"));
    }
  });
  rowsObserver.observe(document.querySelector('[data-testid="stations-table"]'), { subtree: true, childList: true, characterData: true });
  await new Promise((resolve) => {
    const end = performance.now() + seconds * 1000;
    let last = performance.now();
    const tick = (t) => {
      frames.push(t - last);
      last = t;
      if (t < end) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  observer.disconnect();
  rowsObserver.disconnect();
  return { frames, longTasks, updatesSeen: seen.size };
}`;

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0);

/** Waits until the console's live view holds the fleet (the KPI figures come from it). */
const waitForConsoleView = async (page: Page, base: string, n: number) => {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await page.request.get(`${base}/api/trpc/charging.kpis`);
    const total = ((await res.json()) as { result?: { data?: { json?: { totalStations?: number } } } }).result?.data?.json?.totalStations;
    if (total === n) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the console never showed ${n} stations`);
};

const measure = async (browser: Browser, base: string, login: Login, fake: FakeManager, s: Scenario): Promise<Result> => {
  fake.setRate(0);
  fake.reset(s.stations);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await signIn(page, base, login);
  await waitForConsoleView(page, base, s.stations);

  await page.goto(`${base}/charging`);
  await page.waitForFunction(`document.querySelector('[data-testid^="station-row-"]') !== null`, undefined, { polling: "raf", timeout: 120_000 });
  const firstRowsMs = (await page.evaluate("performance.now()")) as number;
  await page.waitForFunction(`/^${s.stations} of ${s.stations} station/.test(document.querySelector('[data-testid="stations-count"]')?.textContent ?? "")`, undefined, { polling: "raf", timeout: 120_000 });
  const allRowsMs = (await page.evaluate("performance.now()")) as number;

  // Settle, then measure: every frame's length, and the main thread's long tasks.
  await page.waitForTimeout(1000);
  fake.setRate(s.changesPerSec);
  await page.waitForTimeout(2000);
  const sample = (await page.evaluate(`(${SAMPLE_IN_PAGE})(${DURATION_S})`)) as { frames: number[]; longTasks: number[]; updatesSeen: number };
  fake.setRate(0);

  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("Performance.enable");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const heap = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
  await context.close();

  const frames = [...sample.frames].sort((a, b) => a - b);
  return {
    ...s,
    firstRowsMs: Math.round(firstRowsMs),
    allRowsMs: Math.round(allRowsMs),
    frames: frames.length,
    frameP50: Math.round(pct(frames, 50) * 10) / 10,
    frameP95: Math.round(pct(frames, 95) * 10) / 10,
    frameP99: Math.round(pct(frames, 99) * 10) / 10,
    frameMax: Math.round((frames.at(-1) ?? 0) * 10) / 10,
    framesOver50: frames.filter((f) => f > 50).length,
    longTasks: sample.longTasks.length,
    longTaskMs: Math.round(sample.longTasks.reduce((a, b) => a + b, 0)),
    heapMb: Math.round((heap / 1024 / 1024) * 10) / 10,
    updatesSeen: sample.updatesSeen,
  };
};

const table = (rows: Result[]) => {
  const head = ["scenario", "stations", "changes/s", "first rows", "all rows", "frames", "frame p50", "p95", "p99", "max", "> 50 ms", "long tasks (ms)", "JS heap", "rows updated"];
  const lines = rows.map((r) => [
    r.name,
    r.stations.toLocaleString("en"),
    String(r.changesPerSec),
    `${r.firstRowsMs} ms`,
    `${r.allRowsMs} ms`,
    String(r.frames),
    `${r.frameP50} ms`,
    `${r.frameP95} ms`,
    `${r.frameP99} ms`,
    `${r.frameMax} ms`,
    String(r.framesOver50),
    `${r.longTasks} (${r.longTaskMs})`,
    `${r.heapMb} MB`,
    String(r.updatesSeen),
  ]);
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...lines.map((l) => `| ${l.join(" | ")} |`)].join("\n");
};

const main = async () => {
  const fake = await startFakeManager();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-console-"));
  say(`stand-in manager ${fake.url}; data dir ${dataDir}; starting the console (npm start; builds when stale)…`);
  const consoleProc = await startConsole(fake, dataDir);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--enable-precise-memory-info"] });
  const results: Result[] = [];
  try {
    const logins = (JSON.parse(readFileSync(path.join(dataDir, "credentials.json"), "utf8")) as { logins: Login[] }).logins;
    const viewer = logins.find((l) => l.role === "viewer")!;
    const changes = (n: number) => Math.round((n * CHANGE_PCT) / 100);
    const scenarios: Scenario[] = [
      { name: "baseline: small fleet, changing", stations: BASELINE, changesPerSec: changes(BASELINE) },
      { name: "large fleet, no changes", stations: N, changesPerSec: 0 },
      { name: `large fleet, ${CHANGE_PCT} % changing each second`, stations: N, changesPerSec: changes(N) },
    ];
    for (const s of scenarios) {
      say(`${s.name}: ${s.stations} stations, ${s.changesPerSec} changes/s`);
      const r = await measure(browser, consoleProc.url, viewer, fake, s);
      results.push(r);
      say(JSON.stringify(r));
    }
    process.stdout.write(`\n${table(results)}\n\nstand-in manager: ${JSON.stringify(fake.stats())}; cores: ${os.cpus().length}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
    if (args["json-out"]) appendFileSync(args["json-out"], `${JSON.stringify({ at: new Date().toISOString(), args: process.argv.slice(2), results })}\n`);
  } finally {
    await browser.close();
    await consoleProc.stop();
    await fake.close();
    if (!args["keep-data"]) rmSync(dataDir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`bench:console failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
