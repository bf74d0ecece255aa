import { createHmac } from "node:crypto";
import fs from "node:fs";
import net, { type AddressInfo } from "node:net";
import { Aedes } from "aedes";
import { connectAsync } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logger } from "../../../lib/log";
import { buildingGatewayUsername, buildingTelemetryTopic } from "../../../contracts/monitoring";
import { eventually } from "../../monitoring/testkit";
import type { BrokerAuthenticator, BrokerIdentity, SiteContext, StartedSiteModule } from "../module";
import { startMonitoringModule } from "./monitoring";

/**
 * The module against a closed aedes broker that behaves as the site's does: usernames under
 * a registered prefix are checked by that module's authenticator and confined to its ACL;
 * the monitoring service's own component login may do anything.
 */
const matches = (filter: string, topic: string) => {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
};

const startClosedBroker = async () => {
  const authenticators = new Map<string, BrokerAuthenticator>();
  const identities = new Map<string, BrokerIdentity | "component">();
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (username === "monitoring" && password?.toString() === "component-secret") {
        identities.set(client.id, "component");
        return done(null, true);
      }
      const entry = [...authenticators].find(([prefix]) => username?.startsWith(prefix));
      if (!entry || !password) return done(null, false);
      Promise.resolve(entry[1](username!, password)).then((id) => {
        if (id) identities.set(client.id, id);
        done(null, Boolean(id));
      });
    },
    authorizePublish: (client, packet, done) => {
      const id = client ? identities.get(client.id) : "component";
      done(id === "component" || (id && id.publish.some((f) => matches(f, packet.topic))) ? null : new Error("not allowed"));
    },
    authorizeSubscribe: (client, sub, done) => {
      const id = identities.get(client.id);
      done(null, id === "component" || (id && id.subscribe.some((f) => matches(f, sub.topic))) ? sub : null);
    },
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registerAuthenticator: (prefix: string, fn: BrokerAuthenticator) => authenticators.set(prefix, fn),
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
};

let broker: Awaited<ReturnType<typeof startClosedBroker>>;
let started: StartedSiteModule;

beforeAll(async () => {
  broker = await startClosedBroker();
  const ctx: SiteContext = {
    env: process.env,
    host: "127.0.0.1",
    dataDir: `/tmp/switchyard-monitoring-module-${process.pid}`,
    mqtt: { url: broker.url, credentials: () => ({ username: "monitoring", password: "component-secret" }) },
    broker: { registerAuthenticator: broker.registerAuthenticator },
    secrets: { siteToken: "a-site-token-of-enough-length" },
    log: logger(),
  };
  started = await startMonitoringModule(ctx, {
    MONITORING_PORT: "0",
    MONITORING_REGIONS: "eu-north,ap-southeast",
    MONITORING_DB_EU_NORTH: "memory://",
    MONITORING_DB_AP_SOUTHEAST: "memory://",
    SITE_SIM_MONITORING_INTERVAL_MS: "300",
    SITE_SIM_MONITORING_DEVICES: "10",
    SITE_SIM_MONITORING_SCRIPTED_FAULT_MS: "0",
  });
});
afterAll(async () => {
  await started?.close();
  await broker?.close();
  fs.rmSync(`/tmp/switchyard-monitoring-module-${process.pid}`, { recursive: true, force: true });
});

const summary = (path: string, regions = "*") =>
  fetch(`${started.consoleEnv.MONITORING_URL}${path}`, { headers: { authorization: `Bearer ${started.consoleEnv.MONITORING_CONSOLE_TOKEN}`, "x-switchyard-regions": regions } }).then((r) => r.json());

describe("site module: monitoring", () => {
  it("hands the console its URL and token, and the demo fleet reports in every region", async () => {
    expect(started.services).toEqual(["monitoring", "sim-monitoring"]);
    expect(started.consoleEnv.MONITORING_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const region of ["eu-north", "ap-southeast"]) {
      await eventually(async () => (await summary(`/api/v1/regions/${region}/sites`)).items?.some((s: { kind: string; devices: number }) => s.kind === "solar" && s.devices >= 3), `${region} solar devices`);
      await eventually(async () => (await summary(`/api/v1/regions/${region}/sites`)).items?.some((s: { kind: string; devices: number }) => s.kind === "building" && s.devices >= 10), `${region} building devices`);
    }
  });

  it("raises the scripted cell fault as an alarm", async () => {
    const alarm = await eventually(async () => (await summary("/api/v1/regions/eu-north/alarms")).items?.find((a: { type: string }) => a.type === "cell_voltage"), "scripted alarm");
    expect(alarm).toMatchObject({ severity: "critical", site: "eu-north-solar-1", status: "active_unack" });
  });

  it("admits a gateway to its own building's topics only", async () => {
    const bad = connectAsync(broker.url, { username: buildingGatewayUsername("eu-north", "eu-north-bldg-1"), password: "wrong", reconnectPeriod: 0 });
    await expect(bad).rejects.toThrow();
    const stranger = connectAsync(broker.url, { username: buildingGatewayUsername("eu-north", "eu-north-bldg-9"), password: "x", reconnectPeriod: 0 });
    await expect(stranger).rejects.toThrow();
  });

  it("lets a gateway publish its own building's telemetry and nothing of another's", async () => {
    const password = createHmac("sha256", "a-site-token-of-enough-length").update("monitoring:site:eu-north-bldg-1").digest("base64url");
    const gw = await connectAsync(broker.url, { username: buildingGatewayUsername("eu-north", "eu-north-bldg-1"), password, reconnectPeriod: 0 });
    const reading = { time: new Date().toISOString(), type: "sensor", metrics: { temperature: 21.5 } };
    await gw.publishAsync(buildingTelemetryTopic("eu-north", "eu-north-bldg-1", "probe-1"), JSON.stringify(reading), { qos: 1 });
    await eventually(async () => (await summary("/api/v1/regions/eu-north/devices/eu-north-bldg-1:probe-1")).device?.values?.temperature === 21.5, "own telemetry stored");
    // Another building's topic: the broker refuses it and drops the connection.
    const closed = new Promise<void>((r) => gw.once("close", () => r()));
    gw.publish(buildingTelemetryTopic("ap-southeast", "ap-southeast-bldg-1", "probe-2"), JSON.stringify(reading), { qos: 1 });
    await closed;
    const other = await summary("/api/v1/regions/ap-southeast/devices/ap-southeast-bldg-1:probe-2");
    expect(other.error).toBe("not_found");
    await gw.endAsync(true);
  });

  it("counts and drops malformed building telemetry without storing any of it", async () => {
    const password = createHmac("sha256", "a-site-token-of-enough-length").update("monitoring:site:eu-north-bldg-1").digest("base64url");
    const gw = await connectAsync(broker.url, { username: buildingGatewayUsername("eu-north", "eu-north-bldg-1"), password, reconnectPeriod: 0 });
    const metric = async (outcome: string) => {
      const text = await fetch(`${started.consoleEnv.MONITORING_URL}/metrics`).then((r) => r.text());
      const line = text.split("\n").find((l) => l.startsWith(`monitoring_building_messages_total{outcome="${outcome}"}`));
      return Number(line?.split(" ").at(-1) ?? 0);
    };
    const topic = buildingTelemetryTopic("eu-north", "eu-north-bldg-1", "probe-bad");
    await gw.publishAsync(topic, "{not json", { qos: 1 });
    await gw.publishAsync(topic, JSON.stringify({ time: "2026-12-01T09:00:00", type: "sensor", metrics: { temperature: 20 } }), { qos: 1 });
    await gw.publishAsync(topic, JSON.stringify({ time: new Date(Date.now() + 86_400_000).toISOString(), type: "sensor", metrics: { temperature: 20 } }), { qos: 1 });
    await eventually(async () => (await metric("invalid_json")) >= 1 && (await metric("invalid")) >= 1 && (await metric("bad_time")) >= 1, "refusals counted");
    expect((await summary("/api/v1/regions/eu-north/devices/eu-north-bldg-1:probe-bad")).error).toBe("not_found");
    await gw.endAsync(true);
  });
});
