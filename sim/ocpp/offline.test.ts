import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../services/csms/gateway/gateway";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import { eventually, startTestBroker, startTestManager, type TestManager } from "../../services/csms/testkit";
import { startStationSim, type StationSim } from "./station";

/** A station keeps its transaction messages while offline and sends them, in order, once it is back. */

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let manager: TestManager;
const sims: StationSim[] = [];
const gateways: Gateway[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  manager = await startTestManager({ mqttUrl: broker.url, heartbeatInterval: 60 });
});
afterAll(async () => {
  await Promise.allSettled(sims.map((s) => s.close()));
  await Promise.allSettled(gateways.map((g) => g.close()));
  await manager?.close();
  await broker?.close();
});

const calls = (id: string, action: string) => manager.messages.filter((m) => m.direction === "in" && m.stationId === id && m.envelope.type === 2 && m.envelope.action === action);

describe.each<OcppVersion>(["ocpp1.6", "ocpp2.0.1"])("transaction messages while offline (%s)", (protocol) => {
  it("queues the stop of a transaction while offline and sends it after reconnecting", async () => {
    const id = `OFF-${protocol === "ocpp1.6" ? "16" : "201"}`;
    let gw = await startGateway({ port: 0, mqttUrl: broker.url, authenticate: async () => true });
    gateways.push(gw);
    const port = Number(new URL(gw.httpUrl).port);
    const sim = await startStationSim({ id, url: gw.url, password: "pw", protocol, connectors: 1, behaviour: "idle", speed: 60, meterIntervalMs: 200 });
    sims.push(sim);
    await sim.waitForBoot();
    await sim.plugIn(1, { idTag: "TAG1", autoStart: true });
    const started = protocol === "ocpp1.6" ? () => calls(id, "StartTransaction").length > 0 : () => calls(id, "TransactionEvent").some((m) => m.envelope.type === 2 && m.envelope.request.eventType === "Started");
    await eventually(started, "transaction started");
    // The gateway goes away: the station is offline.
    await gw.close();
    await eventually(() => !sim.state().connected, "station offline");
    await sim.stopTransaction(1);
    expect(sim.state().stats.queuedTxMessages).toBeGreaterThanOrEqual(1);
    const endedBefore = protocol === "ocpp1.6" ? calls(id, "StopTransaction").length : calls(id, "TransactionEvent").filter((m) => m.envelope.type === 2 && m.envelope.request.eventType === "Ended").length;
    expect(endedBefore).toBe(0);
    // Back on the same address: the queued stop is delivered.
    gw = await startGateway({ port, mqttUrl: broker.url, authenticate: async () => true });
    gateways.push(gw);
    const ended = () =>
      protocol === "ocpp1.6" ? calls(id, "StopTransaction").length === 1 : calls(id, "TransactionEvent").filter((m) => m.envelope.type === 2 && m.envelope.request.eventType === "Ended").length === 1;
    await eventually(ended, "queued stop delivered after reconnect", 30_000);
    await eventually(() => sim.state().stats.queuedTxMessages === 0, "queue empty");
    expect(sim.state().stats.txMessagesSentLater).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe("a 2.0.1 station says why it refuses", () => {
  it("answers a refused command with statusInfo.reasonCode (and stays schema-valid)", async () => {
    const gw = await startGateway({ port: 0, mqttUrl: broker.url, authenticate: async () => true });
    gateways.push(gw);
    const sim = await startStationSim({ id: "WHY201", url: gw.url, password: "pw", protocol: "ocpp2.0.1", connectors: 1, behaviour: "idle", speed: 60 });
    sims.push(sim);
    await sim.waitForBoot();
    const stop = await manager.call("WHY201", "ocpp2.0.1", "RequestStopTransaction", { transactionId: "nope" });
    expect(stop).toMatchObject({ type: 3, response: { status: "Rejected", statusInfo: { reasonCode: "UnknownTxId" } } });
    const start = await manager.call("WHY201", "ocpp2.0.1", "RequestStartTransaction", { idToken: { idToken: "T", type: "Central" }, remoteStartId: 1, evseId: 7 });
    expect(start).toMatchObject({ type: 3, response: { status: "Rejected", statusInfo: { reasonCode: "UnknownEvse" } } });
    expect(sim.state().stats.validationFailures).toBe(0);
  });
});
