import { connectAsync } from "mqtt";
import { signActivationBatch } from "../../lib/flex/activation-batch";
import { generateNodeKeys, importPrivateKey } from "../../services/flex/signing";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceTopics } from "../../contracts/flex/mqtt";
import { createManagerAuthenticator } from "../../services/csms/gateway/auth";
import { startGateway, type Gateway } from "../../services/csms/gateway/gateway";
import { startManager, type Manager } from "../../services/csms/manager/manager";
import { startTestBroker } from "../../services/csms/testkit";
import { eventually, startHarness, windowAhead } from "../../services/flex/testkit";
import { startFleet, type Fleet } from "../../sim/ocpp/fleet";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { createChargingConnector, createChargingStore, createCsmsClient, type ChargingConnector } from "../connectors/csms";
import { createFlexConnector, createFlexStore, type FlexConnector } from "../connectors/flex";
import { UpstreamHealth } from "../connectors/health";
import { registerConnector, unregisterConnector } from "../connectors/kit/registry";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory, type SessionUser } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";
import { bridgeDeviceId, evBridges, evBridgeStore, restoreStationBridges, stationMeteredW } from "./ev-bridge";

/**
 * The EV-charger bridge end to end on real parts: a simulated OCPP station charging a car
 * through the gateway, broker and CSMS manager; a DSO flex node with its closed device
 * broker; both connectors in the console. An operator bridges the station, a trader buys
 * its flexibility, the activation becomes SetChargingProfile commands, and the station's
 * metered power follows.
 */
const TOKEN = "test-api-token-0123456789";
const NODE = "flex-dso-ev";
const GRID = "gn-ev";
const P = 20_000;
const WAIT = 45_000;

let csmsBroker: Awaited<ReturnType<typeof startTestBroker>>;
let managerDb: TestDb;
let consoleDb: TestDb;
let manager: Manager;
let gateway: Gateway;
let fleet: Fleet;
let charging: ChargingConnector;
let flex: FlexConnector;
let h: Awaited<ReturnType<typeof startHarness>>;
let operator: SessionUser;
let trader: SessionUser;
let viewer: SessionUser;
const chargingStore = createChargingStore(4096);
const flexStore = createFlexStore(4096);
const createCaller = createCallerFactory(appRouter);
const as = (user: SessionUser) => createCaller(makeContext(consoleDb.db, user));
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
const stationPower = (id: string) => stationMeteredW(charging, id);
const profileCommands = () => consoleDb.db.command.findMany({ where: { domain: "charging", action: "setChargingProfile" }, orderBy: { createdAt: "asc" } });

beforeAll(async () => {
  csmsBroker = await startTestBroker();
  [managerDb, consoleDb] = await Promise.all([createTestDb(), createTestDb()]);
  manager = await startManager({ port: 0, mqttUrl: csmsBroker.url, db: managerDb.db, apiToken: TOKEN, openRegistration: true, acceptUnknownTokens: true, heartbeatIntervalSec: 2, commandTimeoutMs: 4000, sweepIntervalMs: 250 });
  gateway = await startGateway({ port: 0, mqttUrl: csmsBroker.url, authenticate: createManagerAuthenticator({ managerUrl: manager.url }) });
  charging = createChargingConnector({ client: createCsmsClient({ baseUrl: manager.url, token: TOKEN }), health: new UpstreamHealth(), store: chargingStore, minBackoffMs: 100, maxBackoffMs: 400 });
  await charging.view.ready;
  registerConnector(charging);
  fleet = await startFleet({ url: gateway.url, managerUrl: manager.url, stations: 1, ratio16: 0, behaviour: "idle", seed: 3, idPrefix: "EVB", meterIntervalMs: 300 });
  await fleet.ready;

  h = await startHarness({ nodes: [{ nodeId: NODE, role: "DSO", gridNodes: [GRID], trader: "dso-north" }], timing: { periodMs: P, bundleIntervalMs: 200, stepMs: 1000, ackTimeoutMs: 800 } });
  const n = h.node(NODE);
  flex = createFlexConnector({
    health: new UpstreamHealth(),
    store: flexStore,
    nodeUrls: { [NODE]: n.node.url },
    consoleToken: h.consoleToken,
    traderNodes: { "dso-north": NODE },
    traderTokens: { "dso-north": n.traderToken },
    bridgeTokens: { [NODE]: n.fspToken },
    deviceMqttUrl: h.mqttUrl,
    minBackoffMs: 100,
    maxBackoffMs: 400,
  });
  await flex.ready;
  registerConnector(flex);

  operator = await createTestUser(consoleDb.db, "operator");
  trader = await createTestUser(consoleDb.db, "trader", { participantId: "dso-north" });
  viewer = await createTestUser(consoleDb.db, "viewer");
}, 90_000);

afterAll(async () => {
  for (const b of evBridges().values()) await b.close();
  evBridges().clear();
  unregisterConnector("flex");
  unregisterConnector("charging");
  await flex?.close();
  await h?.close();
  await fleet?.close();
  await charging?.close();
  await gateway?.close();
  await manager?.close();
  await csmsBroker?.close();
  await managerDb?.close();
  await consoleDb?.close();
});

describe("the EV-charger bridge", () => {
  it("is started by an operator for a known station only", async () => {
    const stationId = fleet.stations[0]!.id;
    expect(await codeOf(as(viewer).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: 11_000 }))).toBe("FORBIDDEN");
    expect(await codeOf(as(trader).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: 11_000 }))).toBe("FORBIDDEN");
    expect(await codeOf(as(operator).flex.bridge.start({ stationId: "NOPE00001", nodeId: NODE, gridNodeId: GRID, maxPowerW: 11_000 }))).toBe("NOT_FOUND");
    expect(await codeOf(as(operator).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: "gn-elsewhere", maxPowerW: 11_000 }))).toBe("BAD_REQUEST");
    expect(await codeOf(as(operator).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: -5 }))).toBe("BAD_REQUEST");
    expect(evBridges().size).toBe(0);
  });

  it("drives an activation end to end: offers from the station's state, SetChargingProfile through the command path, the station's power follows", async () => {
    const sim = fleet.stations[0]!;
    const stationId = sim.id;
    await sim.plugIn(1);
    await eventually(() => stationPower(stationId) > 3000, "the station charging a car", WAIT);

    const started = await as(operator).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: 11_000, unitPrice: 100 });
    expect(started).toMatchObject({ deviceId: bridgeDeviceId(stationId), connected: true });
    expect(evBridgeStore().get(stationId)?.deviceId).toBe(bridgeDeviceId(stationId));
    expect(await codeOf(as(operator).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: 11_000 }))).toBe("CONFLICT");
    const device = bridgeDeviceId(stationId);
    // The node sees the device online with an up offer from what the station draws.
    await eventually(() => h.node(NODE).node.health().offersOpen >= 1 && h.node(NODE).node.health().devicesOnline === 1, "the bridged device online with an offer", WAIT);

    const baseline = stationPower(stationId);
    const askW = Math.round(baseline * 0.5);
    const { periodFrom, periodTo } = windowAhead(P, 2);
    const made = await as(trader).flex.requests.create({ idempotencyKey: "ev-bridge-request-1", gridNodeId: GRID, direction: "up", periodFrom, periodTo, quantityW: askW, maxUnitPrice: 1000 });
    expect(made.command.status).toBe("accepted");
    const requestId = made.command.target.split("/")[1];
    await eventually(() => [...flexStore.trades.values()].some((t) => t.requestId === requestId), "a trade awarded to the bridged station", WAIT);
    const trade = [...flexStore.trades.values()].find((t) => t.requestId === requestId)!;
    expect(trade.deviceCount).toBe(1);

    // A forged activation (an intruder on the device broker, the wrong key) is refused and sends nothing.
    const intruder = await connectAsync(h.mqttUrl, { username: "intruder", password: "intruder", reconnectPeriod: 0 });
    const [forged] = signActivationBatch(importPrivateKey(generateNodeKeys().privateKey), NODE, [{ deviceId: device, nodeId: NODE, seq: Date.now() * 10, stepTs: Date.now(), setpointW: 1000, validUntil: Date.now() + 5000, tradeIds: [trade.id] }]);
    intruder.publish(deviceTopics(device).activation, JSON.stringify(forged), { qos: 1 });
    await eventually(() => (evBridges().get(stationId)!.status().refused.bad_signature ?? 0) === 1, "the forged activation refused", WAIT);
    await intruder.endAsync();
    expect(await profileCommands()).toHaveLength(0);

    await eventually(() => Date.now() >= trade.period, "the trade's window", WAIT);
    const signal = await as(trader).flex.activations.signal({ idempotencyKey: "ev-bridge-signal-1", nodeId: NODE, tradeId: trade.id, setpointW: askW });
    expect(signal.command.status).toBe("accepted");

    // The signed setpoint (the offer's baseline − activation) becomes a charging profile on the station …
    const before = stationPower(stationId);
    await eventually(async () => (await profileCommands()).some((c) => c.status === "accepted"), "an accepted SetChargingProfile", WAIT);
    const [first] = await profileCommands();
    expect(first).toMatchObject({ target: stationId, actorId: operator.id, status: "accepted" });
    const limitW = (first!.payload as { params: { limitW: number } }).params.limitW;
    expect(limitW).toBeLessThan(before);
    expect(limitW).toBeGreaterThan(0);
    const audit = await consoleDb.db.auditEntry.findFirst({ where: { action: "command.charging.setChargingProfile.outcome", target: stationId } });
    expect(audit?.outcome).toBe("ok");
    // … and the station's metered power follows it, which the node sees as delivered.
    await eventually(() => Math.abs(stationPower(stationId) - limitW) < Math.max(300, limitW * 0.1), `the station's power following ${limitW} W`, WAIT);
    await eventually(() => [...flexStore.steps.values()].some((s) => s.tradeId === trade.id && s.acked === 1 && (s.deliveredW ?? 0) > askW * 0.5), "delivery measured from the station's power", WAIT);

    const stopped = await as(operator).flex.bridge.stop({ stationId });
    expect(stopped.activations).toBeGreaterThan(0);
    expect(evBridges().size).toBe(0);
    expect(evBridgeStore().has(stationId)).toBe(false);
    // Leaving the market gives the station its own limit back.
    await eventually(async () => (await profileCommands()).some((c) => c.status === "accepted" && (c.payload as { params: { limitW: number } }).params.limitW === 11_000), "the station's own limit restored", WAIT);
  }, 180_000);

  it("comes back after a console restart with the operator's choice, until the operator stops it", async () => {
    const stationId = fleet.stations[0]!.id;
    await as(operator).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: 7400, unitPrice: 90 });
    expect(await consoleDb.db.flexEvBridge.findUnique({ where: { stationId } })).toMatchObject({ nodeId: NODE, gridNodeId: GRID, maxPowerW: 7400, unitPrice: 90, actorId: operator.id, actorEmail: operator.email });
    // The process ends: its bridges go with it, the saved choice stays.
    const running = evBridges().get(stationId)!;
    evBridges().clear();
    evBridgeStore().remove(stationId);
    await running.close();

    expect(await restoreStationBridges(consoleDb.db)).toBe(1);
    expect(evBridges().get(stationId)?.status()).toMatchObject({ deviceId: bridgeDeviceId(stationId), nodeId: NODE, gridNodeId: GRID, maxPowerW: 7400, startedBy: operator.email });
    await eventually(() => evBridges().get(stationId)?.status().connected === true, "the restored bridge on the device broker", WAIT);
    await eventually(() => h.node(NODE).node.health().devicesOnline === 1, "the node seeing the restored device online", WAIT);

    await as(operator).flex.bridge.stop({ stationId });
    expect(await consoleDb.db.flexEvBridge.count()).toBe(0);
    expect(await restoreStationBridges(consoleDb.db)).toBe(0);
    expect(evBridges().size).toBe(0);
  }, 120_000);

  it("does not restore a bridge whose operator has lost flex.bridge: the choice is forgotten and the refusal audited", async () => {
    const stationId = fleet.stations[0]!.id;
    await as(operator).flex.bridge.start({ stationId, nodeId: NODE, gridNodeId: GRID, maxPowerW: 7400 });
    const running = evBridges().get(stationId)!;
    evBridges().clear();
    evBridgeStore().remove(stationId);
    await running.close();
    // Demoted while the console was down.
    await consoleDb.db.user.update({ where: { id: operator.id }, data: { role: "viewer" } });
    try {
      expect(await restoreStationBridges(consoleDb.db)).toBe(0);
      expect(evBridges().size).toBe(0);
      expect(await consoleDb.db.flexEvBridge.count()).toBe(0);
      expect(await consoleDb.db.auditEntry.findFirst({ where: { action: "flex.bridge.restore", target: stationId }, orderBy: { at: "desc" } })).toMatchObject({ outcome: "denied", actorEmail: operator.email });
    } finally {
      await consoleDb.db.user.update({ where: { id: operator.id }, data: { role: "operator" } });
    }
  }, 120_000);
});
