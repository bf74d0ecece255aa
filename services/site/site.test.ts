import { randomBytes } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SITE_TOPICS, type PingResponse, type SiteHeartbeat, type SiteStatus } from "../../contracts/site";
import type { SiteModule } from "./module";
import { startSite, type Site } from "./site";

const WAIT_MS = 10_000;

/** Resolves with the first message on `topic` that `accept` likes; generous timeout, no timing asserts. */
const nextMessage = <T>(client: MqttClient, topic: string, accept: (body: T) => boolean = () => true) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", onMessage);
      reject(new Error(`no matching message on ${topic} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      const body = JSON.parse(payload.toString("utf8")) as T;
      if (!accept(body)) return;
      clearTimeout(timer);
      client.off("message", onMessage);
      resolve(body);
    };
    client.on("message", onMessage);
  });

const metricValue = (text: string, name: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);

/** Polls until `check` holds; the condition is eventually true, the wait is only a safety net. */
const eventually = async (check: () => Promise<boolean>) => {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
};

const variants: { name: string; mqttUrl?: string }[] = [{ name: "embedded broker" }];
if (process.env.SWITCHYARD_TEST_SERVICES === "1") variants.push({ name: "system broker", mqttUrl: process.env.TEST_MQTT_URL ?? "mqtt://127.0.0.1:1883" });

describe.each(variants)("site with $name", ({ mqttUrl }) => {
  let site: Site;
  let client: MqttClient;

  beforeAll(async () => {
    site = await startSite({ mqttUrl, mqttPort: 0, httpPort: 0, heartbeatMs: 200 });
    // The console's account: it may read the site's status and heartbeat and ask for pings.
    client = await connectAsync(site.mqttUrl, { clientId: `switchyard-test-${randomBytes(6).toString("hex")}`, reconnectPeriod: 0, ...site.credentials("console") });
  });

  afterAll(async () => {
    await client?.endAsync();
    await site?.close();
  });

  it("reports its broker", () => {
    if (mqttUrl) expect(site.mqttUrl).toBe(mqttUrl);
    else expect(site.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  });

  it("publishes a retained online status", async () => {
    // Subscribing after the site connected proves the status is retained. On a shared
    // broker an older site's status may also be there, so match this process's pid.
    const status = nextMessage<SiteStatus>(client, SITE_TOPICS.status, (s) => s.pid === process.pid && s.state === "online");
    await client.subscribeAsync(SITE_TOPICS.status, { qos: 1 });
    await expect(status).resolves.toMatchObject({ state: "online", pid: process.pid });
  });

  it("publishes heartbeats", async () => {
    const beat = nextMessage<SiteHeartbeat>(client, SITE_TOPICS.heartbeat);
    await client.subscribeAsync(SITE_TOPICS.heartbeat);
    const body = await beat;
    expect(body.services).toEqual([]);
    expect(typeof body.at).toBe("number");
    expect(typeof body.uptimeSec).toBe("number");
  });

  it("answers a ping on the per-request topic", async () => {
    const id = `t-${randomBytes(8).toString("hex")}`;
    const topic = SITE_TOPICS.pingResponse(id);
    const reply = nextMessage<PingResponse>(client, topic);
    await client.subscribeAsync(topic, { qos: 1 });
    const sentAt = Date.now();
    await client.publishAsync(SITE_TOPICS.pingRequest, JSON.stringify({ id, sentAt }), { qos: 1 });
    const body = await reply;
    expect(body).toMatchObject({ id, sentAt });
    expect(body.answeredAt).toBeGreaterThanOrEqual(sentAt);
  });

  it("counts malformed pings and keeps answering valid ones", async () => {
    const before = metricValue(await (await fetch(`${site.httpUrl}/metrics`)).text(), "site_bad_payloads_total");
    const replies: string[] = [];
    client.on("message", (t) => {
      if (t.startsWith("switchyard/site/ping/response/")) replies.push(t);
    });
    await client.subscribeAsync("switchyard/site/ping/response/+");
    const bad = ["{not json", JSON.stringify({ sentAt: 1 }), JSON.stringify({ id: "../../evil", sentAt: 1 }), JSON.stringify({ id: "x".repeat(65), sentAt: 1 })];
    for (const payload of bad) await client.publishAsync(SITE_TOPICS.pingRequest, payload, { qos: 1 });
    await eventually(async () => {
      const text = await (await fetch(`${site.httpUrl}/metrics`)).text();
      return metricValue(text, "site_bad_payloads_total") - before >= bad.length;
    });
    // A valid ping sent afterwards is still answered, and none of the bad ones were.
    const id = `after-${randomBytes(4).toString("hex")}`;
    const reply = nextMessage<PingResponse>(client, SITE_TOPICS.pingResponse(id));
    await client.publishAsync(SITE_TOPICS.pingRequest, JSON.stringify({ id, sentAt: Date.now() }), { qos: 1 });
    await reply;
    expect(replies.filter((t) => t.endsWith("/undefined") || t.includes("evil") || t.includes("x".repeat(65)))).toEqual([]);
  });

  it("serves metrics", async () => {
    const res = await fetch(`${site.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("site_mqtt_messages_total");
    expect(text).toContain("site_broker_clients");
    expect(text).toContain("process_cpu_user_seconds_total");
    if (!mqttUrl) expect(metricValue(text, "site_broker_clients")).toBeGreaterThanOrEqual(2);
  });

  it("reports health", async () => {
    const res = await fetch(`${site.httpUrl}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; mqtt: string; broker: { embedded: boolean; url: string; clients: number } };
    expect(body).toMatchObject({ status: "ok", mqtt: "connected", broker: { embedded: !mqttUrl, url: site.mqttUrl } });
    expect((await fetch(`${site.httpUrl}/nope`)).status).toBe(404);
  });
});

describe("site shutdown", () => {
  it("announces offline and releases its ports", async () => {
    const site = await startSite({ mqttPort: 0, httpPort: 0 });
    // The embedded broker stops with the site, but it forwards the offline status to
    // subscribers before acknowledging it, and close() waits for that acknowledgement.
    const watcher = await connectAsync(site.mqttUrl, { clientId: `switchyard-test-${randomBytes(6).toString("hex")}`, reconnectPeriod: 0, ...site.credentials("console") });
    const online = nextMessage<SiteStatus>(watcher, SITE_TOPICS.status, (s) => s.state === "online");
    await watcher.subscribeAsync(SITE_TOPICS.status, { qos: 1 });
    await online;
    const offline = nextMessage<SiteStatus>(watcher, SITE_TOPICS.status, (s) => s.state === "offline");
    await site.close();
    await expect(offline).resolves.toMatchObject({ state: "offline", reason: "shutdown" });
    await watcher.endAsync(true);
    await site.close(); // idempotent
    await expect(fetch(`${site.httpUrl}/health`)).rejects.toThrow();
  });

  it("never binds the system broker's port", async () => {
    await expect(startSite({ mqttPort: 1883, httpPort: 0 })).rejects.toThrow(/1883/);
  });
});

describe("site modules", () => {
  it("starts the enabled modules on the closed broker, merges what they report and stops them in reverse", async () => {
    const events: string[] = [];
    const fakeModule = (name: string, enabled = true): SiteModule => ({
      name,
      enabled: (env) => enabled && env[`SITE_${name.toUpperCase()}`] !== "0",
      brokerAccess: () => ({ [`${name}-service`]: { publish: [`${name}/#`], subscribe: [`${name}/#`] }, console: { publish: [], subscribe: [`${name}/#`] } }),
      secrets: [`${name}Token`],
      start: async (ctx) => {
        events.push(`start ${name}`);
        expect(ctx.secrets[`${name}Token`]).toMatch(/^[A-Za-z0-9_-]{43}$/);
        // The module's component logs in with its own account and may use its own topics only.
        const client = await connectAsync(ctx.mqtt.url, { reconnectPeriod: 0, ...ctx.mqtt.credentials(`${name}-service`) });
        await client.publishAsync(`${name}/hello`, "hi", { qos: 1 });
        return {
          services: [`${name}-service`],
          consoleEnv: { [`${name.toUpperCase()}_URL`]: `http://${name}` },
          close: async () => {
            events.push(`stop ${name}`);
            await client.endAsync(true);
          },
        };
      },
    });
    const site = await startSite({ mqttPort: 0, httpPort: 0, modules: [fakeModule("alpha"), fakeModule("beta"), fakeModule("gamma", false), fakeModule("delta")], env: { SITE_DELTA: "0" } });
    try {
      expect(site.services).toEqual(["alpha-service", "beta-service"]);
      expect(site.consoleEnv).toEqual({ ALPHA_URL: "http://alpha", BETA_URL: "http://beta" });
      // A disabled module keeps its accounts (its services may run as separate processes).
      expect(site.credentials("gamma-service").username).toBe("gamma-service");
      expect(() => site.credentials("nobody")).toThrow(/no broker account/);
      // The console's account reads what the modules granted it.
      const consoleClient = await connectAsync(site.mqttUrl, { reconnectPeriod: 0, ...site.credentials("console") });
      expect((await consoleClient.subscribeAsync("beta/#"))[0].qos).toBe(0);
      await consoleClient.endAsync(true);
    } finally {
      await site.close();
    }
    expect(events).toEqual(["start alpha", "start beta", "stop beta", "stop alpha"]);
  });

  it("guards /metrics with a bearer token when one is set", async () => {
    const site = await startSite({ mqttPort: 0, httpPort: 0, metricsToken: "metrics-token-0123456789" });
    try {
      expect((await fetch(`${site.httpUrl}/metrics`)).status).toBe(401);
      expect((await fetch(`${site.httpUrl}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
      const ok = await fetch(`${site.httpUrl}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("site_mqtt_refused_total");
      expect((await fetch(`${site.httpUrl}/health`)).status).toBe(200);
    } finally {
      await site.close();
    }
  });
});
