import { randomBytes } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";
import { RPCClient } from "ocpp-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { csmsTopics, type ChargeStationAuth, type OcppVersion, type StationPresence } from "../../../contracts/csms/mqtt";
import { eventually, startTestBroker, startTestManager, WAIT_MS, type TestManager } from "../testkit";
import { base64Sha256, passwordMatches, type Authenticate } from "./auth";
import { startGateway, type Gateway, type GatewayOptions } from "./gateway";

// ---------- helpers ----------

const registry = new Map<string, ChargeStationAuth>();
const register = (id: string, password: string) => registry.set(id, { securityProfile: 0, base64SHA256Password: base64Sha256(password), invalidUsernameAllowed: false });
const authenticate: Authenticate = async (id, password, { usernameMatches }) => {
  const record = registry.get(id);
  return !!record && passwordMatches(record, password, usernameMatches);
};

type Station = InstanceType<typeof RPCClient>;
const stations: Station[] = [];

/** A real OCPP-J client; `strict: false` lets a test send schema-invalid payloads. */
const station = async (
  gw: Gateway,
  id: string,
  protocol: OcppVersion,
  { password = `pw-${id}`, strict = true, concurrency = 1, handlers = {} as Record<string, (params: Record<string, unknown>) => unknown> } = {},
) => {
  register(id, password);
  const client = new RPCClient({
    endpoint: `${gw.url}/ws`,
    identity: id,
    password,
    protocols: [protocol],
    strictMode: strict,
    callConcurrency: concurrency,
    reconnect: false,
    callTimeoutMs: WAIT_MS,
  } as unknown as ConstructorParameters<typeof RPCClient>[0]);
  for (const [action, fn] of Object.entries(handlers)) client.handle(action, async ({ params }) => (await fn(params ?? {})) as Record<string, unknown>);
  await client.connect();
  stations.push(client);
  return client;
};

const BOOT: Record<OcppVersion, Record<string, unknown>> = {
  "ocpp1.6": { chargePointVendor: "Switchyard", chargePointModel: "Test" },
  "ocpp2.0.1": { reason: "PowerUp", chargingStation: { vendorName: "Switchyard", model: "Test" } },
};

/** Opens a raw websocket (for frames no OCPP library would send) and waits for the outcome. */
const rawSocket = (url: string, { id, password, protocol = "ocpp1.6" }: { id?: string; password?: string; protocol?: string } = {}) =>
  new Promise<{ ws?: WebSocket; status?: number }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (id && password !== undefined) headers.authorization = `Basic ${Buffer.from(`${id}:${password}`).toString("base64")}`;
    const ws = new WebSocket(url, [protocol], { headers });
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once("error", (error) => reject(error));
  });

/** Resolves with the next text frame. */
const nextFrame = (ws: WebSocket) =>
  new Promise<unknown>((resolve) => ws.once("message", (data: Buffer) => resolve(JSON.parse(data.toString("utf8")))));

const metricsText = async (gw: Gateway) => (await fetch(`${gw.httpUrl}/metrics`)).text();
const metricValue = (text: string, name: string, labels: Record<string, string> = {}) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
const waitForMetric = (gw: Gateway, name: string, labels: Record<string, string>, atLeast: number) =>
  eventually(async () => metricValue(await metricsText(gw), name, labels) >= atLeast, `${name} ≥ ${atLeast}`);

/** Next message on `topic` (subscribing first) that `accept` likes. */
const nextOn = async <T>(client: MqttClient, topic: string, accept: (body: T, retained: boolean) => boolean) => {
  const result = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => (client.off("message", onMessage), reject(new Error(`nothing matching on ${topic}`))), WAIT_MS);
    const onMessage = (t: string, payload: Buffer, packet: { retain: boolean }) => {
      if (t !== topic || payload.length === 0) return;
      const body = JSON.parse(payload.toString("utf8")) as T;
      if (!accept(body, packet.retain)) return;
      clearTimeout(timer);
      client.off("message", onMessage);
      resolve(body);
    };
    client.on("message", onMessage);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return result;
};

afterAll(async () => {
  await Promise.allSettled(stations.map((s) => s.close({ force: true })));
});

// ---------- the core round trips, on aedes and (services mode) on the system Mosquitto ----------

const brokers: { name: string; url?: string }[] = [{ name: "aedes" }];
if (process.env.SWITCHYARD_TEST_SERVICES === "1") brokers.push({ name: "system mosquitto", url: process.env.TEST_MQTT_URL ?? "mqtt://127.0.0.1:1883" });

describe.each(brokers)("gateway round trips via $name", ({ url }) => {
  // A unique prefix keeps parallel or earlier runs on a shared broker out of our topics.
  const prefix = `cs-test-${randomBytes(4).toString("hex")}`;
  const topics = csmsTopics(prefix);
  let broker: Awaited<ReturnType<typeof startTestBroker>> | undefined;
  let gw: Gateway;
  let manager: TestManager;
  let observer: MqttClient;

  beforeAll(async () => {
    if (!url) broker = await startTestBroker();
    const mqttUrl = url ?? broker!.url;
    gw = await startGateway({ port: 0, mqttUrl, topicPrefix: prefix, authenticate });
    manager = await startTestManager({ mqttUrl, prefix, observeOut: true });
    observer = await connectAsync(mqttUrl, { clientId: `observer-${randomBytes(6).toString("hex")}`, reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    // Leave no retained state behind on a shared broker.
    if (url && observer) {
      for (const id of ["RT16", "RT201", "RTP"]) await observer.publishAsync(topics.presence(id), "", { qos: 1, retain: true });
      await observer.publishAsync(topics.gateway(gw.gatewayId), "", { qos: 1, retain: true });
    }
    await observer?.endAsync(true);
    await manager?.close();
    await broker?.close();
  });

  it.each([
    ["ocpp1.6", "RT16"],
    ["ocpp2.0.1", "RT201"],
  ] as const)("bridges a %s BootNotification to the manager and its answer back", async (protocol, id) => {
    const client = await station(gw, id, protocol);
    const response = (await client.call("BootNotification", BOOT[protocol])) as { status: string; interval: number };
    expect(response).toMatchObject({ status: "Accepted", interval: 1 });

    const [call] = manager.calls(id, "BootNotification");
    expect(call.topic).toBe(`${prefix}/in/${protocol}/${id}`);
    expect(JSON.parse(call.raw)).toEqual({ type: 2, action: "BootNotification", id: expect.any(String), request: BOOT[protocol] });
    // The manager's own copy of its answer comes back through the broker, possibly after
    // the station already has it.
    const answerOf = () => manager.messages.find((m) => m.direction === "out" && m.envelope.id === call.envelope.id);
    await eventually(() => answerOf() !== undefined, "the manager's answer on out");
    expect(answerOf()?.topic).toBe(`${prefix}/out/${protocol}/${id}`);
  });

  it("delivers a manager CALL to the station and publishes the merged result on in", async () => {
    const seen: unknown[] = [];
    await station(gw, "RTP", "ocpp1.6", {
      handlers: {
        Reset: (params) => {
          seen.push(params);
          return { status: "Accepted" };
        },
      },
    });
    // The gateway subscribes to the station's out topic before it announces presence.
    await nextOn<StationPresence>(observer, topics.presence("RTP"), (p) => p.online);
    const answer = await manager.call("RTP", "ocpp1.6", "Reset", { type: "Soft" }, "cmd-1");
    expect(answer).toEqual({ type: 3, action: "Reset", id: "cmd-1", request: { type: "Soft" }, response: { status: "Accepted" } });
    expect(seen).toEqual([{ type: "Soft" }]);
    const onWire = manager.messages.find((m) => m.direction === "in" && m.envelope.id === "cmd-1");
    expect(onWire?.topic).toBe(`${prefix}/in/ocpp1.6/RTP`);
  });

  it("publishes retained presence on connect and disconnect", async () => {
    const client = await station(gw, "RTPR", "ocpp2.0.1");
    // Subscribing after the connect proves the message is retained.
    const online = await nextOn<StationPresence>(observer, topics.presence("RTPR"), (p) => p.online);
    expect(online).toMatchObject({ online: true, gateway: gw.gatewayId, protocol: "ocpp2.0.1", at: expect.any(Number) });
    const offline = nextOn<StationPresence>(observer, topics.presence("RTPR"), (p) => !p.online);
    await client.close();
    expect(await offline).toMatchObject({ online: false, gateway: gw.gatewayId, session: online.session });
    if (url) await observer.publishAsync(topics.presence("RTPR"), "", { qos: 1, retain: true });
  });
});

// ---------- everything else, on aedes ----------

describe("gateway", () => {
  let broker: Awaited<ReturnType<typeof startTestBroker>>;
  let gw: Gateway;
  let manager: TestManager;
  let observer: MqttClient;
  const topics = csmsTopics("cs");
  const gateways: Gateway[] = [];
  const gateway = async (extra: Partial<GatewayOptions> = {}) => {
    const g = await startGateway({ port: 0, mqttUrl: broker.url, authenticate, ...extra });
    gateways.push(g);
    return g;
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    gw = await gateway({ callTimeoutMs: 2000, rateLimit: { callsPerSecond: 5, burst: 10 } });
    manager = await startTestManager({ mqttUrl: broker.url });
    observer = await connectAsync(broker.url, { clientId: `observer-${randomBytes(6).toString("hex")}`, reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await Promise.allSettled(stations.map((s) => s.close({ force: true })));
    await Promise.all(gateways.map((g) => g.close()));
    await observer?.endAsync(true);
    await manager?.close();
    await broker?.close();
  });

  it("answers health and metrics on the websocket's HTTP server", async () => {
    const health = await fetch(`${gw.httpUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", mqtt: "connected", gateway: gw.gatewayId });
    const text = await metricsText(gw);
    expect(text).toContain("csms_gateway_connected_stations");
    expect(text).toContain("csms_gateway_call_duration_seconds");
  });

  describe("refused connections", () => {
    it("refuses a wrong password and an unknown station with 401 at the upgrade", async () => {
      register("AUTH1", "right");
      expect(await rawSocket(`${gw.url}/ws/AUTH1`, { id: "AUTH1", password: "wrong" })).toEqual({ status: 401 });
      expect(await rawSocket(`${gw.url}/ws/NOBODY`, { id: "NOBODY", password: "x" })).toEqual({ status: 401 });
      expect(await rawSocket(`${gw.url}/ws/AUTH1`)).toEqual({ status: 401 });
      // Username must be the station id.
      expect(await rawSocket(`${gw.url}/ws/AUTH1`, { id: "OTHER", password: "right" })).toEqual({ status: 401 });
      const ok = await rawSocket(`${gw.url}/ws/AUTH1`, { id: "AUTH1", password: "right" });
      expect(ok.ws?.protocol).toBe("ocpp1.6");
      ok.ws?.close();
      await waitForMetric(gw, "csms_gateway_upgrades_total", { outcome: "unauthorized" }, 4);
    });

    it("answers 404 for paths other than /ws/<id> and 400 for bad ids or subprotocols", async () => {
      register("PATH1", "pw");
      expect(await rawSocket(`${gw.url}/ocpp/PATH1`, { id: "PATH1", password: "pw" })).toEqual({ status: 404 });
      expect(await rawSocket(`${gw.url}/ws/`, { id: "PATH1", password: "pw" })).toEqual({ status: 404 });
      expect(await rawSocket(`${gw.url}/ws/a/PATH1`, { id: "PATH1", password: "pw" })).toEqual({ status: 404 });
      expect(await rawSocket(`${gw.url}/ws/%E0%A4%A`, { id: "x", password: "pw" })).toEqual({ status: 400 });
      expect(await rawSocket(`${gw.url}/ws/a%2Fb`, { id: "a/b", password: "pw" })).toEqual({ status: 400 });
      expect(await rawSocket(`${gw.url}/ws/PATH1`, { id: "PATH1", password: "pw", protocol: "ocpp1.5" })).toEqual({ status: 400 });
      expect((await fetch(`${gw.httpUrl}/nope`)).status).toBe(404);
    });
  });

  describe("station CALLs", () => {
    it("answers schema-invalid payloads and unknown actions itself and publishes nothing", async () => {
      const client = await station(gw, "BAD1", "ocpp1.6", { strict: false });
      await expect(client.call("BootNotification", { chargePointVendor: "x" })).rejects.toMatchObject({ rpcErrorCode: "OccurrenceConstraintViolation" });
      await expect(client.call("StatusNotification", { connectorId: "one", errorCode: "NoError", status: "Available" })).rejects.toMatchObject({
        rpcErrorCode: "TypeConstraintViolation",
      });
      await expect(client.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Sleeping" })).rejects.toMatchObject({
        rpcErrorCode: expect.stringMatching(/Violation$/),
      });
      await expect(client.call("MakeCoffee", {})).rejects.toMatchObject({ rpcErrorCode: "NotImplemented" });
      // A valid CALL afterwards is bridged; anything published before it would be recorded by now.
      await client.call("Heartbeat", {});
      expect(manager.calls("BAD1").map((c) => c.envelope.action)).toEqual(["Heartbeat"]);
      const text = await metricsText(gw);
      expect(metricValue(text, "csms_gateway_bad_frames_total", { reason: "schema" })).toBeGreaterThanOrEqual(3);
      expect(metricValue(text, "csms_gateway_bad_frames_total", { reason: "unknown_action" })).toBeGreaterThanOrEqual(1);
    });

    it("answers malformed frames and unknown message types with the protocol's error", async () => {
      register("RAW1", "pw");
      const { ws } = await rawSocket(`${gw.url}/ws/RAW1`, { id: "RAW1", password: "pw" });
      const frame1 = nextFrame(ws!);
      ws!.send("this is not json");
      expect(await frame1).toEqual([4, "-1", "RpcFrameworkError", expect.any(String), {}]);
      const frame2 = nextFrame(ws!);
      ws!.send(JSON.stringify([7, "m1", "Heartbeat", {}]));
      // ocpp-rpc rejects the type before it reads the id, hence "-1".
      expect(await frame2).toEqual([4, expect.any(String), "MessageTypeNotSupported", expect.any(String), {}]);
      const frame3 = nextFrame(ws!);
      ws!.send(JSON.stringify({ hello: "world" }));
      expect(await frame3).toEqual([4, "-1", "RpcFrameworkError", expect.any(String), {}]);
      // The socket survives and still works.
      const frame4 = nextFrame(ws!);
      ws!.send(JSON.stringify([2, "m2", "Heartbeat", {}]));
      expect(await frame4).toEqual([3, "m2", { currentTime: expect.any(String) }]);
      ws!.close();
      expect(manager.calls("RAW1").map((c) => c.envelope.action)).toEqual(["Heartbeat"]);
      await waitForMetric(gw, "csms_gateway_bad_frames_total", { reason: "json" }, 1);
      await waitForMetric(gw, "csms_gateway_bad_frames_total", { reason: "rpc" }, 2);
    });

    it("closes the socket with 1009 on an oversized frame", async () => {
      register("BIG1", "pw");
      const { ws } = await rawSocket(`${gw.url}/ws/BIG1`, { id: "BIG1", password: "pw" });
      const closed = new Promise<number>((resolve) => ws!.once("close", (code) => resolve(code)));
      ws!.send(JSON.stringify([2, "big", "DataTransfer", { vendorId: "x", data: "x".repeat(70 * 1024) }]));
      expect(await closed).toBe(1009);
      await waitForMetric(gw, "csms_gateway_bad_frames_total", { reason: "oversized" }, 1);
      expect(manager.calls("BIG1")).toEqual([]);
    });

    it("rate-limits a flooding station while another station keeps working", async () => {
      const flood = await station(gw, "FLOOD", "ocpp1.6", { concurrency: 100 });
      const calm = await station(gw, "CALM", "ocpp1.6");
      const results = await Promise.allSettled(Array.from({ length: 60 }, () => flood.call("Heartbeat", {})));
      const refused = results.filter((r) => r.status === "rejected");
      // The bucket starts full, so at least the burst gets through; 60 at once exceed it.
      expect(results.filter((r) => r.status === "fulfilled").length).toBeGreaterThanOrEqual(10);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ rpcErrorCode: "SecurityError" });
      for (let i = 0; i < 3; i++) await expect(calm.call("Heartbeat", {})).resolves.toMatchObject({ currentTime: expect.any(String) });
      await waitForMetric(gw, "csms_gateway_rate_limited_total", {}, refused.length);
    });

    it("answers InternalError when the manager does not answer in time", async () => {
      manager.setHandler(({ action }) => (action === "DataTransfer" ? "ignore" : undefined));
      try {
        const client = await station(gw, "SLOWM", "ocpp2.0.1");
        await expect(client.call("DataTransfer", { vendorId: "switchyard" })).rejects.toMatchObject({ rpcErrorCode: "InternalError" });
        // The published CALL reached the manager; only the answer was missing.
        expect(manager.calls("SLOWM", "DataTransfer")).toHaveLength(1);
        await waitForMetric(gw, "csms_gateway_call_timeouts_total", { origin: "station" }, 1);
      } finally {
        manager.setHandler();
      }
    });

    it("relays a manager CALLERROR to the station", async () => {
      manager.setHandler(({ action }) => (action === "Authorize" ? { error: "SecurityError", description: "no" } : undefined));
      try {
        const client = await station(gw, "ERRM", "ocpp1.6");
        await expect(client.call("Authorize", { idTag: "TAG" })).rejects.toMatchObject({ rpcErrorCode: "SecurityError", message: "no" });
      } finally {
        manager.setHandler();
      }
    });

    it("answers InternalError when the manager's answer breaks the schema", async () => {
      manager.setHandler(({ action }) => (action === "Heartbeat" ? { currentTime: 42 } : undefined));
      try {
        const client = await station(gw, "SCHM", "ocpp1.6");
        await expect(client.call("Heartbeat", {})).rejects.toMatchObject({ rpcErrorCode: "InternalError" });
        await waitForMetric(gw, "csms_gateway_bad_mqtt_payloads_total", { reason: "response_schema" }, 1);
      } finally {
        manager.setHandler();
      }
    });
  });

  describe("manager CALLs", () => {
    it("answers StationOffline for a station that is not connected here", async () => {
      const client = await station(gw, "OFF1", "ocpp1.6");
      const offline = nextOn<StationPresence>(observer, topics.presence("OFF1"), (p) => !p.online);
      await client.close();
      await offline;
      const answer = await manager.call("OFF1", "ocpp1.6", "Reset", { type: "Hard" }, "off-1");
      expect(answer).toEqual({
        type: 4,
        action: "Reset",
        id: "off-1",
        request: { type: "Hard" },
        error_code: "StationOffline",
        error_description: expect.stringContaining("OFF1"),
      });
      await waitForMetric(gw, "csms_gateway_station_offline_total", {}, 1);
    });

    it("keeps one call in flight, queues five and refuses the rest", async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let calls = 0;
      await station(gw, "Q1", "ocpp1.6", {
        handlers: {
          GetConfiguration: async () => {
            calls += 1;
            await gate;
            return { configurationKey: [], unknownKey: [] };
          },
        },
      });
      await nextOn<StationPresence>(observer, topics.presence("Q1"), (p) => p.online);
      const ids = Array.from({ length: 8 }, (_, i) => `q-${i}`);
      const answers = ids.map((id) => manager.call("Q1", "ocpp1.6", "GetConfiguration", {}, id));
      // The 7th and 8th are refused while the first is still held by the station.
      const refused = await Promise.all([answers[6], answers[7]]);
      for (const r of refused) expect(r).toMatchObject({ type: 4, error_code: "GatewayQueueFull", action: "GetConfiguration" });
      expect(calls).toBe(1);
      release();
      const delivered = await Promise.all(answers.slice(0, 6));
      for (const [i, r] of delivered.entries()) expect(r).toMatchObject({ type: 3, id: ids[i], response: { configurationKey: [], unknownKey: [] } });
      expect(calls).toBe(6);
      await waitForMetric(gw, "csms_gateway_queue_full_total", {}, 2);
    });

    it("reports a station's CALLERROR, a station timeout and a schema-invalid request", async () => {
      const quick = await gateway({ callTimeoutMs: 300 });
      register("MC1", "pw-MC1");
      const client = new RPCClient({
        endpoint: `${quick.url}/ws`,
        identity: "MC1",
        password: "pw-MC1",
        protocols: ["ocpp2.0.1"],
        strictMode: true,
        reconnect: false,
      } as unknown as ConstructorParameters<typeof RPCClient>[0]);
      client.handle("UnlockConnector", async () => {
        throw Object.assign(new Error("locked"), { rpcErrorCode: "NotSupported" });
      });
      client.handle("ClearCache", () => new Promise<Record<string, unknown>>(() => {})); // never answers
      await client.connect();
      stations.push(client);
      // The station's subscription is in place once its presence is out.
      await nextOn<StationPresence>(observer, topics.presence("MC1"), (p) => p.online && p.gateway === quick.gatewayId);

      expect(await manager.call("MC1", "ocpp2.0.1", "UnlockConnector", { evseId: 1, connectorId: 1 })).toMatchObject({ type: 4, error_code: "NotSupported", error_description: "locked" });
      expect(await manager.call("MC1", "ocpp2.0.1", "ClearCache", {})).toMatchObject({ type: 4, error_code: "GatewayTimeout", action: "ClearCache" });
      expect(await manager.call("MC1", "ocpp2.0.1", "Reset", { type: "Sometime" })).toMatchObject({
        type: 4,
        error_code: expect.stringMatching(/Violation$/),
        request: { type: "Sometime" },
      });
      expect(await manager.call("MC1", "ocpp1.6", "Reset", { type: "Soft" })).toMatchObject({ type: 4, error_code: "ProtocolMismatch" });
      await waitForMetric(quick, "csms_gateway_call_timeouts_total", { origin: "manager" }, 1);
      await waitForMetric(quick, "csms_gateway_bad_mqtt_payloads_total", { reason: "request_schema" }, 1);
    });

    it("counts and ignores malformed payloads on the out topic", async () => {
      const client = await station(gw, "MQ1", "ocpp1.6");
      await client.call("Heartbeat", {}); // subscription confirmed
      await manager.publishRaw(topics.out("ocpp1.6", "MQ1"), "{not json");
      await manager.publishRaw(topics.out("ocpp1.6", "MQ1"), JSON.stringify({ type: 9, id: "x" }));
      await manager.publishRaw(topics.out("ocpp1.6", "MQ1"), JSON.stringify({ type: 2, action: "Reset", id: "y" }));
      await manager.publishRaw(topics.out("ocpp1.6", "MQ1"), JSON.stringify({ type: 3, id: "nobody-asked", response: {} }));
      await waitForMetric(gw, "csms_gateway_bad_mqtt_payloads_total", { reason: "json" }, 1);
      await waitForMetric(gw, "csms_gateway_bad_mqtt_payloads_total", { reason: "schema" }, 2);
      await waitForMetric(gw, "csms_gateway_bad_mqtt_payloads_total", { reason: "unknown_id" }, 1);
      // Nothing else happened: the station still works.
      await expect(client.call("Heartbeat", {})).resolves.toMatchObject({ currentTime: expect.any(String) });
    });
  });

  describe("several gateways on one broker", () => {
    it("delivers manager CALLs only through the gateway that holds the station", async () => {
      const a = await gateway();
      const b = await gateway();
      const received: Record<string, string[]> = { X1: [], Y1: [] };
      const handlers = (id: string) => ({
        ClearCache: () => {
          received[id].push("ClearCache");
          return { status: "Accepted" };
        },
      });
      await station(a, "X1", "ocpp1.6", { handlers: handlers("X1") });
      await station(b, "Y1", "ocpp2.0.1", { handlers: handlers("Y1") });
      for (const [id, gwId] of [
        ["X1", a.gatewayId],
        ["Y1", b.gatewayId],
      ]) {
        await nextOn<StationPresence>(observer, topics.presence(id), (p) => p.online && p.gateway === gwId);
      }
      expect(await manager.call("X1", "ocpp1.6", "ClearCache", {}, "x1-call")).toMatchObject({ type: 3, response: { status: "Accepted" } });
      expect(await manager.call("Y1", "ocpp2.0.1", "ClearCache", {}, "y1-call")).toMatchObject({ type: 3, response: { status: "Accepted" } });
      // A later round trip flushes anything a wrong gateway might still have published.
      await manager.call("Y1", "ocpp2.0.1", "ClearCache", {}, "y1-flush");
      const answers = (id: string) => manager.messages.filter((m) => m.direction === "in" && m.envelope.id === id);
      expect(answers("x1-call")).toHaveLength(1);
      expect(answers("y1-call")).toHaveLength(1);
      expect(received).toEqual({ X1: ["ClearCache"], Y1: ["ClearCache", "ClearCache"] });
      expect(a.stations()).toEqual(["X1"]);
      expect(b.stations()).toEqual(["Y1"]);
    });

    it("releases a station that reconnects through another gateway", async () => {
      const a = await gateway();
      const b = await gateway();
      const first = await station(a, "MOVE1", "ocpp1.6");
      await nextOn<StationPresence>(observer, topics.presence("MOVE1"), (p) => p.online && p.gateway === a.gatewayId);
      const firstClosed = new Promise<void>((resolve) => first.once("close", () => resolve()));
      const second = await station(b, "MOVE1", "ocpp1.6", { handlers: { ClearCache: () => ({ status: "Accepted" }) } });
      await firstClosed;
      await eventually(() => a.stations().length === 0, "gateway A released MOVE1");
      expect(await manager.call("MOVE1", "ocpp1.6", "ClearCache", {}, "move-1")).toMatchObject({ type: 3 });
      await manager.call("MOVE1", "ocpp1.6", "ClearCache", {}, "move-flush");
      expect(manager.messages.filter((m) => m.direction === "in" && m.envelope.id === "move-1")).toHaveLength(1);
      // The retained presence names the new owner, not an "offline" from the old one.
      const retained = await new Promise<StationPresence>((resolve) => {
        void (async () => {
          const c = await connectAsync(broker.url, { clientId: `retained-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0 });
          c.on("message", (_t, payload) => {
            resolve(JSON.parse(payload.toString("utf8")) as StationPresence);
            void c.endAsync(true);
          });
          await c.subscribeAsync(topics.presence("MOVE1"), { qos: 1 });
        })();
      });
      expect(retained).toMatchObject({ online: true, gateway: b.gatewayId });
      await second.close();
    });

    it("replaces an older socket of the same station on the same gateway", async () => {
      const old = await station(gw, "DUP1", "ocpp1.6");
      const first = await nextOn<StationPresence>(observer, topics.presence("DUP1"), (p) => p.online);
      const oldClosed = new Promise<void>((resolve) => old.once("close", () => resolve()));
      const seen: string[] = [];
      await station(gw, "DUP1", "ocpp1.6", { handlers: { ClearCache: () => (seen.push("new"), { status: "Accepted" }) } });
      await oldClosed;
      const second = await nextOn<StationPresence>(observer, topics.presence("DUP1"), (p) => p.online && p.session !== first.session);
      expect(second.gateway).toBe(gw.gatewayId);
      expect(await manager.call("DUP1", "ocpp1.6", "ClearCache", {})).toMatchObject({ type: 3 });
      expect(seen).toEqual(["new"]);
      // The old socket's close must not have overwritten the presence with "offline".
      const retained = await nextOn<StationPresence>(observer, topics.presence("DUP1"), () => true);
      expect(retained).toMatchObject({ online: true, session: second.session });
    });

    it("marks its stations offline on a clean shutdown", async () => {
      const c = await gateway();
      await station(c, "SHUT1", "ocpp2.0.1");
      await nextOn<StationPresence>(observer, topics.presence("SHUT1"), (p) => p.online && p.gateway === c.gatewayId);
      const offline = nextOn<StationPresence>(observer, topics.presence("SHUT1"), (p) => !p.online);
      const gwOffline = nextOn<{ online: boolean }>(observer, topics.gateway(c.gatewayId), (s) => !s.online);
      await c.close();
      expect(await offline).toMatchObject({ online: false, reason: "gateway shutdown" });
      expect(await gwOffline).toMatchObject({ online: false });
    });
  });
});
