import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../lib/testing/net";

/**
 * The launcher keeps the site alive: `npm start` with small settings (one idle station, a
 * stand-in console that needs no build), then kill -9 its children one at a time. Waits
 * are on the launcher's own lines and on health answers, never on the clock.
 */

const WAIT_MS = 90_000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm start keeps the site alive", () => {
  let dataDir: string;
  let launcher: ChildProcess;
  let consolePort: number;
  const lines: string[] = [];
  const waiters: { re: RegExp; from: number; resolve: (m: RegExpMatchArray) => void }[] = [];

  /** Resolves with the first line at or after `from` that matches. */
  const lineMatching = (re: RegExp, from = 0) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const found = lines.slice(from).map((l) => l.match(re)).find(Boolean);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${WAIT_MS} ms; last lines:\n${lines.slice(-20).join("\n")}`)), WAIT_MS);
      waiters.push({ re, from, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  const collect = (stream: NodeJS.ReadableStream) =>
    readline.createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const w of [...waiters]) {
        const m = lines.length - 1 >= w.from ? line.match(w.re) : null;
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  const health = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${consolePort}/api/health`);
      return { status: res.status, body: (await res.json()) as { pid: number; csmsManagerUrl: string | null } };
    } catch {
      return { status: 0, body: undefined };
    }
  };
  const healthyConsole = async (pid: number) => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const h = await health();
      if (h.status === 200 && h.body?.pid === pid) return h.body;
      if (Date.now() > deadline) throw new Error(`console ${pid} not healthy (last: ${JSON.stringify(h)})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-start-"));
    consolePort = await freePort();
    launcher = spawn(process.execPath, ["--import", "tsx", path.join("scripts", "start.ts")], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        SWITCHYARD_DATA_DIR: dataDir,
        CONSOLE_PORT: String(consolePort),
        MQTT_PORT: "0",
        SITE_PORT: "0",
        CSMS_MANAGER_PORT: "0",
        CSMS_GATEWAY_PORT: "0",
        SITE_SIM_STATIONS: "1",
        SITE_SIM_EVENTS: "0",
        // Charging is enough to prove the launcher; the other domains have tests of their own.
        SITE_RMF: "0",
        SITE_FLEX: "0",
        SITE_MONITORING: "0",
        START_RESTART_BACKOFF_MS: "100",
        START_CONSOLE_COMMAND: JSON.stringify([process.execPath, "--import", "tsx", path.join("scripts", "testing", "stub-console.ts")]),
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    collect(launcher.stdout!);
    collect(launcher.stderr!);
    await lineMatching(/Switchyard is running/);
  }, 180_000);

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      launcher.kill("SIGKILL");
      await new Promise((r) => launcher.once("exit", r));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("hands the console its own broker account and the modules' settings", async () => {
    const pid = Number((await lineMatching(/console started \(pid (\d+)\)/))[1]);
    const body = await healthyConsole(pid); // it reads the site's heartbeat through the closed broker
    expect(body.csmsManagerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const credentials = JSON.parse(fs.readFileSync(path.join(dataDir, "credentials.json"), "utf8")) as { mqtt: Record<string, { username: string; password: string }> };
    // Every module's accounts exist even when the module is off (its services may run as separate processes).
    expect(Object.keys(credentials.mqtt)).toEqual(expect.arrayContaining(["console", "csms-gateway", "csms-manager", "site"]));
  });

  it("restarts a console killed with -9 while the site keeps running", async () => {
    const sitePid = Number((await lineMatching(/site ready \(pid (\d+)\)/))[1]);
    const consolePid = Number((await lineMatching(/console started \(pid (\d+)\)/))[1]);
    const from = lines.length;
    process.kill(consolePid, "SIGKILL");
    await lineMatching(new RegExp(`console \\(pid ${consolePid}\\) exited unexpectedly \\(SIGKILL\\); restarting`), from);
    const next = Number((await lineMatching(/console started \(pid (\d+)\)/, from))[1]);
    expect(next).not.toBe(consolePid);
    await healthyConsole(next);
    expect(alive(sitePid)).toBe(true);
    expect(lines.slice(from).some((l) => /site ready/.test(l))).toBe(false);
  });

  it("restarts a killed site, and the console follows its new addresses", async () => {
    const sitePid = Number((await lineMatching(/site ready \(pid (\d+)\)/))[1]);
    const from = lines.length;
    process.kill(sitePid, "SIGKILL");
    await lineMatching(new RegExp(`site \\(pid ${sitePid}\\) exited unexpectedly \\(SIGKILL\\); restarting`), from);
    const next = Number((await lineMatching(/site ready \(pid (\d+)\)/, from))[1]);
    expect(next).not.toBe(sitePid);
    // Free ports come back different, so the console is restarted with the new ones.
    await lineMatching(/restarting the console to follow them/, from);
    const consolePid = Number((await lineMatching(/console started \(pid (\d+)\)/, from))[1]);
    await healthyConsole(consolePid);
  });

  it("stops everything on SIGTERM", async () => {
    const sitePid = Number([...lines].reverse().map((l) => l.match(/site ready \(pid (\d+)\)/)).find(Boolean)![1]);
    const consolePid = Number([...lines].reverse().map((l) => l.match(/console started \(pid (\d+)\)/)).find(Boolean)![1]);
    const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
    launcher.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(alive(sitePid)).toBe(false);
    expect(alive(consolePid)).toBe(false);
  });
});
