import { setImmediate as tick } from "node:timers/promises";
import { RPCClient } from "ocpp-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ChargeStationAuth, OcppVersion } from "../../../contracts/csms/mqtt";
import { eventually, startTestBroker, startTestManager, WAIT_MS, type TestManager } from "../testkit";
import { base64Sha256, passwordMatches, type Authenticate } from "./auth";
import { startGateway, type Gateway, type GatewayOptions } from "./gateway";

/** Hostile stations against a real gateway, broker and (test) manager: each gets the protocol's answer or a closed socket, and nobody else notices. */

const registry = new Map<string, ChargeStationAuth>();
const authenticate: Authenticate = async (id, password, { usernameMatches }) => {
  const record = registry.get(id);
  return !!record && passwordMatches(record, password, usernameMatches);
};
const register = (id: string) => registry.set(id, { securityProfile: 0, base64SHA256Password: base64Sha256(`pw-${id}`), invalidUsernameAllowed: false });

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let manager: TestManager;
const gateways: Gateway[] = [];
const clients: InstanceType<typeof RPCClient>[] = [];
const sockets: WebSocket[] = [];

const gateway = async (extra: Partial<GatewayOptions> = {}) => {
  const g = await startGateway({ port: 0, mqttUrl: broker.url, authenticate, ...extra });
  gateways.push(g);
  return g;
};
const station = async (gw: Gateway, id: string, protocol: OcppVersion, strictMode = true) => {
  register(id);
  const client = new RPCClient({ endpoint: `${gw.url}/ws`, identity: id, password: `pw-${id}`, protocols: [protocol], strictMode, reconnect: false, callTimeoutMs: WAIT_MS } as unknown as ConstructorParameters<
    typeof RPCClient
  >[0]);
  await client.connect();
  clients.push(client);
  return client;
};
const raw = (gw: Gateway, id: string, protocol: OcppVersion = "ocpp1.6") =>
  new Promise<WebSocket>((resolve, reject) => {
    register(id);
    const ws = new WebSocket(`${gw.url}/ws/${id}`, [protocol], { headers: { authorization: `Basic ${Buffer.from(`${id}:pw-${id}`).toString("base64")}` } });
    sockets.push(ws);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
const nextFrame = (ws: WebSocket) => new Promise<unknown[]>((resolve) => ws.once("message", (data: Buffer) => resolve(JSON.parse(data.toString("utf8")) as unknown[])));
const metric = async (gw: Gateway, name: string) =>
  (await (await fetch(`${gw.httpUrl}/metrics`)).text())
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

/** Sends valid Heartbeats as fast as the socket takes them until it closes or `stop()`. */
const flood = (ws: WebSocket) => {
  let stopped = false;
  let sent = 0;
  const done = (async () => {
    while (!stopped && ws.readyState === WebSocket.OPEN) {
      if (ws.bufferedAmount < 1 << 20) ws.send(JSON.stringify([2, `f${sent++}`, "Heartbeat", {}]));
      else await new Promise((r) => setTimeout(r, 5));
      if (sent % 200 === 0) await tick();
    }
  })();
  return { stop: () => ((stopped = true), done), sent: () => sent };
};

beforeAll(async () => {
  broker = await startTestBroker();
  manager = await startTestManager({ mqttUrl: broker.url });
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.allSettled(clients.map((c) => c.close({ force: true })));
  await Promise.all(gateways.map((g) => g.close()));
  await manager?.close();
  await broker?.close();
});

describe("a flooding station", () => {
  it("is slowed by backpressure while a well-behaved station's heartbeats keep being answered", async () => {
    // A flood limit it never reaches: the flooder stays connected and is only paused.
    const gw = await gateway({ rateLimit: { callsPerSecond: 20, burst: 40 }, floodLimit: { pauseMs: 200, maxRefused: 1_000_000, windowMs: 10_000 } });
    const flooder = await raw(gw, "FLOODER");
    const calm = await station(gw, "CALM1", "ocpp1.6");
    const f = flood(flooder);
    // The flood is under way (refusals counted) before and after every calm heartbeat.
    await eventually(async () => (await metric(gw, "csms_gateway_rate_limited_total")) > 0, "the flood is refused");
    for (let i = 0; i < 20; i++) await expect(calm.call("Heartbeat", {})).resolves.toMatchObject({ currentTime: expect.any(String) });
    expect(flooder.readyState).toBe(WebSocket.OPEN);
    await f.stop();
    expect(await metric(gw, "csms_gateway_flood_pauses_total")).toBeGreaterThan(0);
    // The manager only ever saw what the limit let through: never more than burst + rate × time.
    expect(manager.calls("FLOODER").length).toBeLessThan(f.sent());
    expect(manager.calls("CALM1").filter((c) => c.envelope.action === "Heartbeat")).toHaveLength(20);
  });

  it("is disconnected with 1008 after sustained abuse, the others unaffected", async () => {
    const gw = await gateway({ rateLimit: { callsPerSecond: 5, burst: 5 }, floodLimit: { pauseMs: 50, maxRefused: 20, windowMs: 10_000 } });
    const flooder = await raw(gw, "FLOODER2");
    const calm = await station(gw, "CALM2", "ocpp2.0.1");
    const closed = new Promise<number>((resolve) => flooder.once("close", (code) => resolve(code)));
    const f = flood(flooder);
    expect(await closed).toBe(1008);
    await f.stop();
    expect(await metric(gw, "csms_gateway_flood_disconnects_total")).toBe(1);
    await expect(calm.call("Heartbeat", {})).resolves.toMatchObject({ currentTime: expect.any(String) });
  });
});

describe("bad input at the gateway", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await gateway();
  });

  it("refuses a message id over 36 characters at once, in each version's spelling, and publishes nothing", async () => {
    const ws16 = await raw(gw, "LONGID16");
    const a = nextFrame(ws16);
    ws16.send(JSON.stringify([2, "x".repeat(37), "Heartbeat", {}]));
    expect(await a).toEqual([4, "x".repeat(37), "FormationViolation", "message id longer than 36 characters", {}]);
    const ws201 = await raw(gw, "LONGID201", "ocpp2.0.1");
    const b = nextFrame(ws201);
    ws201.send(JSON.stringify([2, "y".repeat(40), "Heartbeat", {}]));
    expect(await b).toEqual([4, "y".repeat(40), "FormatViolation", "message id longer than 36 characters", {}]);
    // A 36-character id is fine (the barrier: anything published before it is recorded by then).
    const c = nextFrame(ws201);
    ws201.send(JSON.stringify([2, "z".repeat(36), "Heartbeat", {}]));
    expect((await c)[0]).toBe(3);
    expect(manager.calls("LONGID201").map((m) => m.envelope.id)).toEqual(["z".repeat(36)]);
    expect(manager.calls("LONGID16")).toEqual([]);
  });

  it("spells a missing property OccurrenceConstraintViolation for 2.0.1 (and as ocpp-rpc does for 1.6)", async () => {
    const s201 = await station(gw, "SPELL201", "ocpp2.0.1", false);
    await expect(s201.call("BootNotification", { reason: "PowerUp" })).rejects.toMatchObject({ rpcErrorCode: "OccurrenceConstraintViolation" });
    const s16 = await station(gw, "SPELL16", "ocpp1.6", false);
    await expect(s16.call("BootNotification", { chargePointVendor: "x" })).rejects.toMatchObject({ rpcErrorCode: expect.stringMatching(/^Occur+enceConstraintViolation$/) });
  });
});

describe("a connection storm", () => {
  it("answers every upgrade — accepted, or 503 with Retry-After when too many wait for authentication — and resets none", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowAuth: Authenticate = async (...args) => (await gate, authenticate(...args));
    const gw = await gateway({ authenticate: slowAuth, maxPendingUpgrades: 20 });
    const N = 120;
    for (let i = 0; i < N; i++) register(`STORM${i}`);
    const outcomes = Array.from({ length: N }, (_, i) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${gw.url}/ws/STORM${i}`, ["ocpp1.6"], { headers: { authorization: `Basic ${Buffer.from(`STORM${i}:pw-STORM${i}`).toString("base64")}` } });
        sockets.push(ws);
        ws.once("open", () => resolve("open"));
        ws.once("unexpected-response", (_req, res) => {
          res.resume();
          resolve(`${res.statusCode}${res.headers["retry-after"] ? " retry-after" : ""}`);
        });
        ws.once("error", (error: Error & { code?: string }) => resolve(`error ${error.code ?? error.message}`));
      }),
    );
    // The first 20 wait for authentication; everyone beyond is answered 503 at once.
    await eventually(async () => (await metric(gw, "csms_gateway_upgrades_total")) >= N - 20, "busy answers");
    release();
    const results = await Promise.all(outcomes);
    const counts = results.reduce<Record<string, number>>((acc, r) => ((acc[r] = (acc[r] ?? 0) + 1), acc), {});
    expect(counts).toEqual({ open: 20, "503 retry-after": N - 20 });
    // Once they are through, room again: a new station gets in.
    register("STORM-LATE");
    const late = await raw(gw, "STORM-LATE");
    expect(late.readyState).toBe(WebSocket.OPEN);
  });
});
