import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FleetState } from "../../../contracts/rmf";
import { readCredentials } from "../../../lib/credentials";
import { logger } from "../../../lib/log";
import { signToken } from "../../rmf/lib/jwt";
import { connectClient, eventually, http } from "../../rmf/testkit";
import type { StartedSiteModule } from "../module";
import { rmfSiteModule } from "./rmf";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "site-rmf-"));
let started: StartedSiteModule | undefined;
const saved = { ...process.env };

afterAll(async () => {
  await started?.close();
  process.env = saved;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("the robots site module", () => {
  it("runs main, a proxy and the demo fleet, and tells the console where to read and where to command", async () => {
    Object.assign(process.env, { RMF_MAIN_PORT: "0", RMF_PROXY_PORT: "0", SITE_SIM_ROBOTS: "3", SITE_RMF_EVENTS: "0", SITE_RMF_AUTO_TASKS_SEC: "0" });
    expect(rmfSiteModule.enabled({ SITE_RMF: "0" })).toBe(false);
    expect(rmfSiteModule.enabled({})).toBe(true);
    started = await rmfSiteModule.start({ env: process.env, host: "127.0.0.1", dataDir, databaseUrl: "memory://", mqtt: { url: "mqtt://unused", credentials: () => ({}) }, secrets: {}, log: logger() });
    expect(started.services).toEqual(["rmf-main", "rmf-proxy", "sim-rmf"]);
    const { RMF_URL, RMF_MAIN_URL, RMF_JWT_SECRET, RMF_JWT_ISSUER } = started.consoleEnv;
    expect(RMF_URL).not.toEqual(RMF_MAIN_URL);
    expect(readCredentials(dataDir).secrets?.rmfJwtSecret).toBe(RMF_JWT_SECRET);
    const jwt = await signToken({ secret: RMF_JWT_SECRET, issuer: RMF_JWT_ISSUER, username: "console", permissions: ["task_read"] });
    await eventually(async () => (await http(RMF_URL, jwt).get("/fleets")).json?.length === 2, "two demo fleets through the proxy");
    const c = await connectClient(RMF_URL, jwt);
    await c.subscribe("/fleets/tinyRobot/state");
    await eventually(() => c.of("/fleets/tinyRobot/state").length >= 2, "live fleet state through the proxy");
    expect(Object.keys((c.of("/fleets/tinyRobot/state")[0] as FleetState).robots ?? {})).toEqual(["tinyRobot1", "tinyRobot2"]);
    c.close();
  });
});
