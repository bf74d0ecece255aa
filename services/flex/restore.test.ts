import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ActivationSignal, ActivationStep, Bundle, FlexRequest, Trade } from "../../contracts/flex/entities";
import { startFlexFleet } from "../../sim/flex/fleet";
import { call, eventually, freePort, startHarness, TEST_TIMING, windowAhead } from "./testkit";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

describe("flex node restart", () => {
  it("restores requests, offers and bundles from its store", async () => {
    const h = await startHarness({ nodes: [{ nodeId: "dso-n", role: "DSO", gridNodes: ["gn-a"], trader: "dso-north" }] });
    closers.push(h.close);
    const n = h.node("dso-n");
    const fleet = await startFlexFleet({ nodeUrl: n.node.url, token: n.fspToken, mqttUrl: h.mqttUrl, devices: 3, kinds: ["battery"], reviseEveryMs: 600_000 });
    closers.push(fleet.close);
    await eventually(() => n.node.health().offersOpen === 6, "offers in the book");
    const created = await call(n.node, n.traderToken, "POST", "/requests", { buyerId: "dso-north", gridNodeId: "gn-a", direction: "up", ...windowAhead(TEST_TIMING.periodMs, 3), quantityW: 1000, maxUnitPrice: 500 });
    expect(created.status).toBe(201);
    await eventually(async () => ((await call(n.node, n.traderToken, "GET", "/bundles")).body.bundles as Bundle[]).some((b) => b.allocations.length > 0), "a collecting bundle covering the request");

    const again = await h.restart("dso-n");
    expect(again.node.health().offersOpen).toBe(6);
    expect(again.node.health().devicesRegistered).toBe(3);
    const requests = (await call(again.node, again.traderToken, "GET", "/requests")).body.requests as FlexRequest[];
    expect(requests.map((r) => r.id)).toEqual([created.body.id]);
    expect(((await call(again.node, again.traderToken, "GET", "/bundles")).body.bundles as Bundle[]).length).toBeGreaterThan(0);
  });
});

/** A node as its own process (npm run flex:node), so kill -9 is a real crash. */
const spawnNode = (env: Record<string, string>) =>
  new Promise<{ child: ChildProcess; ready: Record<string, unknown> }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "services/flex/main.ts"], { env: { ...process.env, LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.includes('"event":"ready"'));
      if (line) resolve({ child, ready: JSON.parse(line) });
    });
    child.on("exit", (code) => reject(new Error(`flex node exited with ${code}: ${err}`)));
  });

const stores: { name: string; env: () => Record<string, string>; cleanup?: (env: Record<string, string>) => Promise<void> }[] = [{ name: "journal file", env: () => ({ FLEX_STORE: "file" }) }];
if (process.env.SWITCHYARD_TEST_SERVICES === "1") {
  stores.push({
    name: "the machine's Redis",
    env: () => ({ FLEX_STORE: "redis", REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", FLEX_REDIS_PREFIX: `test:flex-kill:${Date.now()}` }),
    cleanup: async (env) => {
      const { Redis } = await import("ioredis");
      const redis = new Redis(env.REDIS_URL);
      const keys = await redis.keys(`${env.FLEX_REDIS_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  });
}

describe.each(stores)("flex node killed with -9 ($name)", (store) => {
  it("comes back with its requests, offers, trades and acknowledged activations, and goes on activating", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "flex-kill-"));
    closers.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const periodMs = 6000;
    const storeEnv = store.env();
    if (store.cleanup) closers.push(() => store.cleanup!(storeEnv));
    const env = {
      ...storeEnv,
      SWITCHYARD_DATA_DIR: dataDir,
      FLEX_NODE_ID: "dso-k",
      FLEX_ROLE: "DSO",
      FLEX_GRID_NODES: "gn-a",
      FLEX_PORT: String(await freePort()),
      FLEX_MQTT_PORT: String(await freePort()),
      FLEX_PERIOD_MS: String(periodMs),
      FLEX_BUNDLE_INTERVAL_MS: "100",
      FLEX_STEP_MS: "500",
      FLEX_ACK_TIMEOUT_MS: "400",
    };
    let proc = await spawnNode(env);
    closers.push(async () => void proc.child.kill("SIGKILL"));
    const url = String(proc.ready.url);
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, "credentials.json"), "utf8")) as { flex: { participants: Record<string, { id: string; token: string }[]> } };
    const tokenOf = (id: string) => creds.flex.participants["dso-k"].find((p) => p.id === id)!.token;
    const trader = tokenOf("dso-1");
    const fleet = await startFlexFleet({ nodeUrl: url, token: tokenOf("fsp-1"), mqttUrl: String(proc.ready.mqttUrl), devices: 4, kinds: ["battery"], reviseEveryMs: 600_000, tickMs: 100 });
    closers.push(fleet.close);
    const node = { url };
    await eventually(async () => ((await call(node, trader, "GET", "/health")).body.offersOpen as number) === 8, "offers in the book");
    const created = await call(node, trader, "POST", "/requests", { buyerId: "dso-1", gridNodeId: "gn-a", direction: "up", ...windowAhead(periodMs, 2), quantityW: 8000, maxUnitPrice: 500 });
    expect(created.status).toBe(201);
    let trade: Trade | undefined;
    await eventually(async () => {
      trade = ((await call(node, trader, "GET", "/trades")).body.trades as Trade[])[0];
      return !!trade;
    }, "a trade", 20_000);
    const signal = await call(node, trader, "POST", "/activation-signals", { tradeId: trade!.id, setpointW: 8000 });
    expect(signal.status).toBe(202);
    // The crash comes right after the 202: the acknowledged signal must survive it.
    proc.child.kill("SIGKILL");
    await new Promise((r) => proc.child.once("exit", r));
    const followedBefore = fleet.devices.reduce((s, d) => s + d.stats.activations, 0);

    proc = await spawnNode(env);
    const requests = (await call(node, trader, "GET", "/requests")).body.requests as FlexRequest[];
    expect(requests.map((r) => r.id)).toEqual([created.body.id]);
    expect(((await call(node, trader, "GET", "/trades")).body.trades as Trade[]).map((t) => t.id)).toEqual([trade!.id]);
    const activations = (await call(node, trader, "GET", "/activations")).body as { signals: ActivationSignal[]; steps: ActivationStep[] };
    expect(activations.signals.map((s) => s.id)).toContain((signal.body.signal as ActivationSignal).id);
    expect(((await call(node, trader, "GET", "/health")).body.offersOpen as number)).toBe(8);
    // Devices reconnect (their credentials were restored) and the activation goes on.
    await eventually(() => fleet.devices.reduce((s, d) => s + d.stats.activations, 0) > followedBefore + 4, "activations after the restart", 20_000);
    expect(fleet.devices.every((d) => Object.keys(d.stats.refused).length === 0)).toBe(true);
  }, 90_000);
});
