import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { feedSnapshotSchema, nodeInfoSchema } from "../../../contracts/flex/api";
import { readSse } from "../../../lib/sse";
import { nodeIdentity, startDeviceBroker } from "../../flex/broker";
import { eventually } from "../../flex/testkit";
import type { BrokerAuthenticator, StartedSiteModule } from "../module";
import { flexModule } from "./flex";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

const parsePairs = (s: string) => Object.fromEntries(s.split(",").map((p) => p.split("=") as [string, string]));

describe("site module: flex", () => {
  it("starts a TSO and a DSO node with demo devices logging in through the site's broker", async () => {
    const log = pino({ level: "silent" });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "site-flex-"));
    closers.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const authenticators: { prefix: string; authenticate: BrokerAuthenticator }[] = [];
    const users = ["flex-tso", "flex-dso-north"].map((c) => ({ username: `site:${c}`, password: `pw-${c}`, identity: nodeIdentity(`site:${c}`) }));
    const broker = await startDeviceBroker({ port: 0, authenticators, users, log });
    closers.push(broker.close);
    Object.assign(process.env, { SITE_FLEX_TSO_PORT: "0", SITE_FLEX_DSO_PORT: "0", SITE_SIM_FLEX_DEVICES: "9" });
    closers.push(async () => {
      for (const k of ["SITE_FLEX_TSO_PORT", "SITE_FLEX_DSO_PORT", "SITE_SIM_FLEX_DEVICES"]) delete process.env[k];
    });
    expect(flexModule.enabled({})).toBe(true);
    expect(flexModule.enabled({ SITE_FLEX: "0" })).toBe(false);
    const started: StartedSiteModule = await flexModule.start({
      env: process.env,
      host: "127.0.0.1",
      dataDir,
      mqtt: { url: broker.url, credentials: (c) => ({ username: `site:${c}`, password: `pw-${c}` }) },
      broker: { registerAuthenticator: (prefix, authenticate) => authenticators.push({ prefix, authenticate }) },
      secrets: {},
      log,
    });
    closers.push(started.close);
    expect(started.services).toEqual(["flex-tso", "flex-dso-north", "sim-flex"]);
    const urls = parsePairs(started.consoleEnv.FLEX_NODE_URLS);
    const traderTokens = parsePairs(started.consoleEnv.FLEX_TRADER_TOKENS);
    expect(parsePairs(started.consoleEnv.FLEX_TRADER_NODES)).toEqual({ "tso-1": "flex-tso", "dso-north": "flex-dso-north" });
    expect(Object.keys(parsePairs(started.consoleEnv.FLEX_BRIDGE_TOKENS))).toEqual(["flex-tso", "flex-dso-north"]);

    const get = (url: string, token: string, p: string) => fetch(`${url}/api/v1${p}`, { headers: { authorization: `Bearer ${token}` } });
    const info = nodeInfoSchema.parse(await (await get(urls["flex-dso-north"], traderTokens["dso-north"], "/node")).json());
    expect(info.role).toBe("DSO");
    expect(info.peers.map((p) => p.nodeId)).toEqual(["flex-tso"]);
    // The demo devices logged in through the authenticator the module registered.
    await eventually(async () => {
      const health = (await (await get(urls["flex-dso-north"], started.consoleEnv.FLEX_CONSOLE_TOKEN, "/health")).json()) as { devicesOnline: number };
      return health.devicesOnline === 6;
    }, "DSO devices online");
    await eventually(async () => ((await (await get(urls["flex-tso"], started.consoleEnv.FLEX_CONSOLE_TOKEN, "/health")).json()) as { offersOpen: number }).offersOpen >= 18, "the TSO book holding both nodes' offers");
    expect(broker.refused.login).toBe(0);

    // The console's feed: a snapshot first.
    const res = await fetch(`${urls["flex-tso"]}/api/v1/events`, { headers: { authorization: `Bearer ${started.consoleEnv.FLEX_CONSOLE_TOKEN}` } });
    expect(res.status).toBe(200);
    let first: { event: string; data: string } | undefined;
    await readSse(res.body!, (e) => {
      first = e;
      // Stop reading after the first event.
      throw new Error("done");
    }).catch(() => {});
    await res.body!.cancel().catch(() => {});
    expect(first!.event).toBe("snapshot");
    expect(feedSnapshotSchema.parse(JSON.parse(first!.data)).health.nodeId).toBe("flex-tso");
    // Traders may not read the console's feed.
    expect((await get(urls["flex-tso"], traderTokens["tso-1"], "/events")).status).toBe(403);
  });
});
