import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../lib/testing/net";
import { computeKpis, csmsTopics, ZStationsSnapshot, type StationView } from "../../contracts/csms";
import { SITE_TOPICS } from "../../contracts/site";
import type { MqttAccount } from "../../lib/credentials";
import { createTestDb, usingServices, type TestDb } from "../../lib/testing/db";
import { CSMS_COMPONENTS } from "../csms/broker-access";
import { api, metricValue } from "../csms/manager/harness";
import { eventually } from "../csms/testkit";
import { siteAccess } from "./access";
import type { SiteModule } from "./module";
import { csmsModule } from "./modules/csms";
import { writeMosquittoConfig } from "./mosquitto-config";
import { startSite, type Site } from "./site";

/**
 * The closed broker, tried the way an attacker would: the embedded aedes broker and (under
 * `npm run test:services`) a private Mosquitto started with the files
 * `npm run mqtt:mosquitto-config` writes. The site's charging module runs on it; every
 * refusal of issue 6 is shown on both, and "nothing arrived" is proven with a barrier (an
 * observer's own message, routed after the forged one) instead of a sleep.
 */

const TOKEN = "closed-broker-api-token-0123456789";
const MOSQUITTO = "/usr/sbin/mosquitto";
const topics = csmsTopics("cs");
const account = (username: string): MqttAccount => ({ username, password: `${username}-${randomBytes(12).toString("hex")}` });

/** A test-only component that reads everything (the barrier), plus a module authenticator for devices. */
const observerModule: SiteModule = {
  name: "test-observer",
  enabled: () => true,
  brokerAccess: () => ({ observer: { publish: ["test/#"], subscribe: ["#"] } }),
  start: async (ctx) => {
    ctx.broker?.registerAuthenticator("device:", (username, password) =>
      password.toString("utf8") === "device-secret" ? { username, publish: ["test/devices/%u/#"], subscribe: ["test/devices/%u/#"] } : null,
    );
    return { services: [], consoleEnv: {}, close: async () => {} };
  },
};
const modules = [csmsModule, observerModule];
const env = { SITE_SIM_STATIONS: "2", SITE_SIM_EVENTS: "0", SITE_SIM_SEED: "7", CSMS_MANAGER_PORT: "0", CSMS_GATEWAY_PORT: "0" };

/** A private mosquitto on a free port with the generated passwd + acl; resolves once it accepts connections. */
const startMosquitto = async (dir: string, accounts: Record<string, MqttAccount>) => {
  const files = await writeMosquittoConfig({ outDir: path.join(dir, "mosquitto"), access: siteAccess(modules, env), accounts });
  const port = await freePort();
  const conf = path.join(dir, "test-mosquitto.conf");
  // `user root`: run as root here it would otherwise drop to the mosquitto user, who cannot read
  // the temp dir. `log_type all`: its "Denied PUBLISH" lines are debug output.
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\npersistence false\nlog_dest stdout\nlog_type all\nuser root\n${fs.readFileSync(files.conf, "utf8")}`);
  const proc = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${output}`);
        const sock = net.connect(port, "127.0.0.1", () => (sock.destroy(), resolve(true)));
        sock.on("error", () => resolve(false));
      }),
    "private mosquitto listening",
  );
  return { url: `mqtt://127.0.0.1:${port}`, proc, output: () => output };
};

const variants = [{ broker: "embedded" as const }, ...(usingServices() && fs.existsSync(MOSQUITTO) ? [{ broker: "mosquitto" as const }] : [])];

describe.each(variants)("the closed broker ($broker)", ({ broker }) => {
  const embedded = broker === "embedded";
  const accounts = Object.fromEntries(["site", "console", CSMS_COMPONENTS.gateway, CSMS_COMPONENTS.manager, "observer"].map((c) => [c, account(c)]));
  let dir: string;
  let testDb: TestDb | undefined;
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>> | undefined;
  let site: Site;
  let http: ReturnType<typeof api>;
  let observer: MqttClient;
  const seen: { topic: string; payload: string; retain: boolean }[] = [];
  const clients: MqttClient[] = [];

  const connectAs = (username: string | undefined, password?: string, extra: IClientOptions = {}) =>
    connectAsync(site.mqttUrl, { clientId: `t-${randomBytes(5).toString("hex")}`, reconnectPeriod: 0, connectTimeout: 5000, username, password, ...extra }).then((c) => {
      clients.push(c);
      c.on("error", () => {});
      return c;
    });
  const as = (component: string, extra: IClientOptions = {}) => connectAs(accounts[component].username, accounts[component].password, extra);

  /** Publishes QoS 1; settles when the broker acknowledged, refused or closed the connection. */
  const tryPublish = (client: MqttClient, topic: string, payload: string, retain = false) =>
    new Promise<"acked" | "refused" | "closed">((resolve) => {
      client.once("close", () => resolve("closed"));
      client.publish(topic, payload, { qos: 1, retain }, (error) => resolve(error ? "refused" : "acked"));
    });
  /** Subscribes; the granted QoS, 128 when refused. */
  const trySubscribe = (client: MqttClient, filter: string) =>
    client.subscribeAsync(filter, { qos: 0 }).then(
      (granted) => granted[0]?.qos ?? 128,
      () => 128,
    );
  /** Everything the broker routed before this point has reached the observer (which reads `#`). */
  const barrier = async () => {
    const id = randomBytes(6).toString("hex");
    await observer.publishAsync(`test/barrier/${id}`, id, { qos: 1 });
    await eventually(() => seen.some((m) => m.topic === `test/barrier/${id}`), "the barrier message");
  };
  const refusedCount = async (reason: string) => metricValue(await (await fetch(`${site.httpUrl}/metrics`)).text(), "site_mqtt_refused_total", { reason });
  const snapshot = async () => ZStationsSnapshot.parse((await http.get("/api/v0/stations/snapshot")).json).stations.filter((s: StationView) => s.id.startsWith("SIM"));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-closed-broker-"));
    if (usingServices()) testDb = await createTestDb();
    if (!embedded) mosquitto = await startMosquitto(dir, accounts);
    site = await startSite({
      mqttUrl: mosquitto?.url,
      mqttPort: 0,
      httpPort: 0,
      heartbeatMs: 500,
      modules,
      env,
      dataDir: dir,
      databaseUrl: testDb?.url ?? "memory://",
      secrets: { siteToken: TOKEN },
      accounts,
    });
    http = api(site.consoleEnv.CSMS_MANAGER_URL, TOKEN);
    observer = await as("observer");
    observer.on("message", (topic, payload, packet) => seen.push({ topic, payload: payload.toString("utf8"), retain: packet.retain }));
    await observer.subscribeAsync("#", { qos: 1 });
    await eventually(async () => {
      const stations = await snapshot().catch(() => []);
      return stations.length === 2 && stations.every((s) => s.online && s.connectors.length > 0);
    }, "both simulated stations online", 60_000);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.endAsync(true)));
    await site?.close();
    if (mosquitto) {
      mosquitto.proc.kill("SIGTERM");
      await new Promise((r) => mosquitto!.proc.once("exit", r));
    }
    await testDb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("carries the charging domain: gateway, manager and stations, each with its own account", async () => {
    const r = await http.post("/api/v0/stations/SIM00001/commands", { action: "triggerMessage", params: { message: "Heartbeat" } });
    expect(r.json.status).toBe("accepted");
    // Only the site's own components have published so far, and the generated ACL let all of it through.
    if (!embedded) expect(mosquitto!.output()).not.toMatch(/Denied PUBLISH/);
    else expect(await refusedCount("publish")).toBe(0);
  });

  it("refuses anonymous clients", async () => {
    const before = embedded ? await refusedCount("anonymous") : 0;
    await expect(connectAs(undefined)).rejects.toThrow(/Not authorized|Connection refused/i);
    if (embedded) expect(await refusedCount("anonymous")).toBe(before + 1);
  });

  it("refuses a wrong password and an unknown user", async () => {
    const before = embedded ? await refusedCount("bad_credentials") : 0;
    await expect(connectAs("console", "not-the-password")).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connectAs("csms-manager", "")).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connectAs("root", "root")).rejects.toThrow(/Bad username or password|Not authorized/i);
    if (embedded) expect(await refusedCount("bad_credentials")).toBe(before + 3);
  });

  it("refuses the console's account a publish on cs/out: no free remote start", async () => {
    const before = embedded ? await refusedCount("publish") : 0;
    const forger = await as("console");
    const call = JSON.stringify({ type: 2, action: "RemoteStartTransaction", id: "forged-1", request: { idTag: "FREE", connectorId: 1 } });
    // SIM00002 speaks OCPP 1.6 (the fleet alternates versions, starting with 2.0.1).
    expect(await tryPublish(forger, topics.out("ocpp1.6", "SIM00002"), call)).toBe(embedded ? "closed" : "acked");
    await barrier();
    expect(seen.filter((m) => m.payload.includes("forged-1"))).toEqual([]);
    if (embedded) expect(await refusedCount("publish")).toBe(before + 1);
    // The station never saw it: no session, nothing in the manager's log about it.
    expect((await http.get("/api/v0/stations/SIM00002")).json).toMatchObject({ protocol: "ocpp1.6", activeTransactionIds: [] });
    const log = await http.get("/api/v0/stations/SIM00002/messages?limit=1000");
    expect(log.json.items.filter((m: { action: string | null }) => m.action === "RemoteStartTransaction")).toEqual([]);
  });

  it("refuses subscriptions outside a component's access, $share included", async () => {
    const consoleClient = await as("console");
    const gateway = await as(CSMS_COMPONENTS.gateway, { clientId: `gw-test-${randomBytes(3).toString("hex")}` });
    const got = { console: [] as string[], gateway: [] as { topic: string; id?: string }[] };
    consoleClient.on("message", (topic) => got.console.push(topic));
    gateway.on("message", (topic, payload) => got.gateway.push({ topic, id: (JSON.parse(payload.toString()) as { id?: string }).id }));
    const granted = [
      await trySubscribe(consoleClient, "#"),
      await trySubscribe(consoleClient, SITE_TOPICS.pingRequest),
      await trySubscribe(gateway, topics.inWildcard),
      await trySubscribe(gateway, `$share/sneaky/${topics.inWildcard}`),
      await trySubscribe(gateway, SITE_TOPICS.all),
    ];
    // aedes answers 0x80; Mosquitto grants a filter and delivers only what the ACL lets the client read.
    if (embedded) expect(granted).toEqual([128, 128, 128, 128, 128]);
    expect(await trySubscribe(consoleClient, "cs/#")).toBe(0); // the console observes charging, read-only
    expect(await trySubscribe(gateway, topics.outWildcard)).toBe(0);
    const manager = await as(CSMS_COMPONENTS.manager, { clientId: "mgrtest", protocolVersion: embedded ? 4 : 5 });
    // A group of its own: joining the managers' group would take station calls away from them.
    expect(await trySubscribe(manager, `$share/test-group/${topics.inWildcard}`)).toBe(0);

    // Traffic on every topic they tried to read, each followed by something they may read.
    await observer.publishAsync("test/secret", "s", { qos: 1 });
    const pingId = `p${randomBytes(4).toString("hex")}`;
    await consoleClient.subscribeAsync(SITE_TOPICS.pingResponse(pingId), { qos: 0 });
    await consoleClient.publishAsync(SITE_TOPICS.pingRequest, JSON.stringify({ id: pingId, sentAt: Date.now() }), { qos: 1 });
    await eventually(() => got.console.includes(SITE_TOPICS.pingResponse(pingId)), "the console's ping answered");
    const from = seen.length;
    expect((await http.command("SIM00001", "triggerMessage", { message: "Heartbeat" })).json.status).toBe("accepted");
    // The station's Heartbeat goes up on cs/in; the gateway account may only read the manager's answer on cs/out.
    await eventually(() => {
      const heartbeat = seen.slice(from).find((m) => m.topic.startsWith("cs/in/") && m.topic.endsWith("/SIM00001") && m.payload.includes('"Heartbeat"') && m.payload.includes('"type":2'));
      const id = heartbeat && (JSON.parse(heartbeat.payload) as { id: string }).id;
      return !!id && got.gateway.some((m) => m.topic.startsWith("cs/out/") && m.topic.endsWith("/SIM00001") && m.id === id);
    }, "the answer to the station's Heartbeat, read by the gateway account");
    expect(got.console.filter((t) => t.startsWith("test/") || t === SITE_TOPICS.pingRequest)).toEqual([]);
    expect(got.gateway.filter((m) => m.topic.startsWith("cs/in/") || m.topic.startsWith("switchyard/"))).toEqual([]);
  });

  it("refuses forged cs/in traffic: a never-registered station does not come online", async () => {
    const boot = JSON.stringify({ type: 2, action: "BootNotification", id: "forged-boot", request: { chargePointVendor: "X", chargePointModel: "Y" } });
    for (const component of ["console", "site", "observer"]) {
      const forger = await as(component);
      expect(await tryPublish(forger, topics.in("ocpp1.6", "GHOST1"), boot)).toBe(embedded ? "closed" : "acked");
    }
    await barrier();
    expect(seen.filter((m) => m.topic.includes("GHOST1"))).toEqual([]);
    expect((await http.get("/api/v0/stations/GHOST1")).status).toBe(404);
  });

  it("refuses a forged retained presence: a real station is not marked offline", async () => {
    const forged = JSON.stringify({ online: false, gateway: "gw-evil", protocol: "ocpp1.6", at: Date.now() + 60_000, session: "evil", reason: "closed" });
    const forger = await as("console");
    expect(await tryPublish(forger, topics.presence("SIM00001"), forged, true)).toBe(embedded ? "closed" : "acked");
    await barrier();
    expect(seen.filter((m) => m.payload.includes("gw-evil"))).toEqual([]);
    // A newcomer still reads the gateway's own retained presence.
    const reader = await as("console");
    const retained = new Promise<string>((resolve) => reader.on("message", (t, p) => t === topics.presence("SIM00001") && resolve(p.toString())));
    await reader.subscribeAsync(topics.presence("SIM00001"));
    expect(JSON.parse(await retained)).toMatchObject({ online: true });
    expect((await http.get("/api/v0/stations/SIM00001")).json.online).toBe(true);
  });

  it("refuses forged feed events; a malformed one from a real manager account is dropped and KPIs stay", async () => {
    const kpis = computeKpis(await snapshot());
    const event = JSON.stringify({ t: "station", d: { ...(await snapshot())[0], id: "FAKE1", online: true, connectors: [] } });
    const consoleForger = await as("console");
    expect(await tryPublish(consoleForger, topics.feed("x"), event)).toBe(embedded ? "closed" : "acked");
    await expect(connectAs(CSMS_COMPONENTS.manager, "guessed")).rejects.toThrow();
    if (embedded) {
      // A manager account may publish only its own feed (its client id), not another's.
      const other = await as(CSMS_COMPONENTS.manager, { clientId: "mgrx" });
      expect(await tryPublish(other, topics.feed("someoneelse"), event)).toBe("closed");
    }
    await barrier();
    expect(seen.filter((m) => m.payload.includes("FAKE1"))).toEqual([]);

    const metrics = async () => metricValue(await (await fetch(`${site.consoleEnv.CSMS_MANAGER_URL}/metrics`)).text(), "csms_manager_bad_payloads_total", { kind: "feed" });
    const dropped = await metrics();
    const manager = await as(CSMS_COMPONENTS.manager, { clientId: "mgry" });
    expect(await tryPublish(manager, topics.feed("mgry"), JSON.stringify({ t: "station", d: { id: "SIM00001", connectors: 5 } }))).toBe("acked");
    await eventually(async () => (await metrics()) === dropped + 1, "the malformed feed event dropped");
    expect(computeKpis(await snapshot())).toEqual(kpis);
    expect((await http.get("/api/v0/stations/FAKE1")).status).toBe(404);
  });

  it.runIf(embedded)("hands usernames under a module's prefix to its authenticator", async () => {
    const device = await connectAs("device:7", "device-secret");
    expect(await tryPublish(device, "test/devices/device:7/telemetry", "42")).toBe("acked");
    expect(await tryPublish(device, "test/devices/device:8/telemetry", "43")).toBe("closed");
    await expect(connectAs("device:7", "wrong")).rejects.toThrow(/Bad username or password/i);
    await barrier();
    expect(seen.filter((m) => m.topic.startsWith("test/devices/")).map((m) => m.payload)).toEqual(["42"]);
  });
});
