import { randomBytes } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, usingServices, type TestDb } from "../../../lib/testing/db";
import { csmsTopics, envelopeSchema, type Envelope } from "../../../contracts/csms/mqtt";
import { eventually, startTestBroker } from "../testkit";
import { api, metricValue } from "./harness";
import { startManager, type Manager } from "./manager";
import { ownerOf } from "./ownership";

/**
 * Station affinity (ownership.ts) on a real broker: the embedded aedes, and the machine's
 * Mosquitto with SWITCHYARD_TEST_SERVICES=1. The test plays the gateway on the MQTT contract.
 * Every station's calls are handled by its owner only; a retry is not handled twice; a third
 * manager takes a share without losing a transaction; a closed manager's stations move.
 */

const TOKEN = "affinity-test-token-0123456789";
const STATIONS = 12;
const brokers = usingServices() ? (["aedes", "mosquitto"] as const) : (["aedes"] as const);

describe.each(brokers)("station affinity between managers (%s)", (kind) => {
  const prefix = `cs-aff-${randomBytes(3).toString("hex")}`;
  const topics = csmsTopics(prefix);
  const ids = Array.from({ length: STATIONS }, (_, i) => `AFF${i}`);
  const tag = randomBytes(2).toString("hex");
  const mid = (name: string) => `${name}${tag}`;
  let broker: Awaited<ReturnType<typeof startTestBroker>> | undefined;
  let url: string;
  let testDb: TestDb;
  let gw: MqttClient;
  const managers = new Map<string, Manager>();
  const answers = new Map<string, Envelope>();
  let n = 0;
  const fast = { memberIntervalMs: 200, memberGoneMs: 1000, settleMs: 400, handoverMs: 200 };

  const start = async (name: string) => {
    const m = await startManager({ affinity: "station", ...fast, port: 0, mqttUrl: url, topicPrefix: prefix, db: testDb.db, apiToken: TOKEN, acceptUnknownTokens: true, managerId: mid(name), durableSession: false, commandTimeoutMs: 5000 });
    managers.set(name, m);
    return m;
  };
  const metric = async (m: Manager, name: string) => metricValue(await (await fetch(`${m.url}/metrics`)).text(), name);
  const handled = (m: Manager) => metric(m, "csms_manager_station_calls_total");
  const allSee = async (count: number) => {
    for (const m of managers.values()) await eventually(async () => (await metric(m, "csms_manager_members")) === count, `${m.managerId} counts ${count} managers`);
  };
  const members = () => [...managers.values()].map((m) => m.managerId);
  const publishCall = (stationId: string, id: string, action: string, request: Record<string, unknown>) =>
    gw.publishAsync(topics.in("ocpp1.6", stationId), JSON.stringify({ type: 2, action, id, request }), { qos: 1 });
  const call = async (stationId: string, action: string, request: Record<string, unknown>) => {
    const id = `c${++n}`;
    await publishCall(stationId, id, action, request);
    await eventually(() => answers.has(id), `answer to ${action} of ${stationId}`);
    const a = answers.get(id)!;
    if (a.type !== 3) throw new Error(`expected a CALLRESULT, got ${JSON.stringify(a)}`);
    return a.response as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const totalHandled = async () => {
    let sum = 0;
    for (const m of managers.values()) sum += await handled(m);
    return sum;
  };
  const txOf = new Map<string, number>();

  beforeAll(async () => {
    if (kind === "aedes") {
      broker = await startTestBroker();
      url = broker.url;
    } else url = process.env.TEST_MQTT_URL ?? "mqtt://127.0.0.1:1883";
    testDb = await createTestDb();
    gw = await connectAsync(url, { clientId: `gw-aff-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0 });
    gw.on("message", (topic, payload) => {
      const env = envelopeSchema.parse(JSON.parse(payload.toString("utf8"))) as Envelope;
      if (env.type !== 2) return void answers.set(env.id, env);
      // A manager CALL: the station accepts it (answered on `in`, as the gateway does).
      const stationId = topic.split("/").pop()!;
      void gw.publishAsync(topics.in("ocpp1.6", stationId), JSON.stringify({ type: 3, id: env.id, action: env.action, request: env.request, response: { status: "Accepted" } }));
    });
    await gw.subscribeAsync(`${prefix}/out/+/+`);
    await start("a");
    await start("b");
  }, 60_000);

  afterAll(async () => {
    await gw?.endAsync(true);
    for (const m of managers.values()) await m.close();
    await testDb?.close();
    await broker?.close();
  }, 60_000);

  it("handles each station's calls on its owner only, and a retried call once", async () => {
    await allSee(2);
    const [a, b] = [managers.get("a")!, managers.get("b")!];
    const before = new Map([[a, await handled(a)], [b, await handled(b)]]);
    for (const id of ids) {
      await call(id, "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Affinity" });
      await call(id, "StatusNotification", { connectorId: 1, status: "Preparing", errorCode: "NoError" });
      // The gateway's retry of an unanswered CALL (same id, published again).
      const callId = `start-${id}`;
      await Promise.all([publishCall(id, callId, "StartTransaction", { connectorId: 1, idTag: "T1", meterStart: 1000, timestamp: new Date().toISOString() }), publishCall(id, callId, "StartTransaction", { connectorId: 1, idTag: "T1", meterStart: 1000, timestamp: new Date().toISOString() })]);
      await eventually(() => answers.has(callId), `StartTransaction answered for ${id}`);
      txOf.set(id, (answers.get(callId) as unknown as { response: { transactionId: number } }).response.transactionId);
    }
    const calls = ids.length * 3;
    await eventually(async () => (await totalHandled()) - before.get(a)! - before.get(b)! === calls, "every call handled once");
    const ownedBy = (m: Manager) => ids.filter((id) => ownerOf(id, members()) === m.managerId).length;
    expect(ownedBy(a)).toBeGreaterThan(0);
    expect(ownedBy(b)).toBeGreaterThan(0);
    expect((await handled(a)) - before.get(a)!).toBe(ownedBy(a) * 3);
    expect((await handled(b)) - before.get(b)!).toBe(ownedBy(b) * 3);
    expect(await metric(a, "csms_manager_not_owner_total")).toBeGreaterThan(0);
    await a.flush();
    await b.flush();
    const rows = await testDb.db.csmsTransaction.findMany({ where: { stationId: { in: ids } } });
    expect(rows).toHaveLength(ids.length);
  });

  it("delivers a command's result to the manager that sent it, whichever owns the station", async () => {
    const [a, b] = [managers.get("a")!, managers.get("b")!];
    const results = await Promise.all(ids.map((id, i) => api((i % 2 ? a : b).url, TOKEN).command(id, "clearCache")));
    expect(results.map((r) => r.json.status)).toEqual(results.map(() => "accepted"));
    expect((await metric(a, "csms_manager_forwarded_results_total")) + (await metric(b, "csms_manager_forwarded_results_total"))).toBeGreaterThan(0);
  });

  it("a third manager takes a share; the stations it gains stop their transactions correctly", async () => {
    const c = await start("c");
    await allSee(3);
    const gainedByC = ids.filter((id) => ownerOf(id, members()) === c.managerId);
    expect(gainedByC.length).toBeGreaterThan(0);
    const before = await handled(c);
    for (const id of ids) {
      await call(id, "MeterValues", { connectorId: 1, transactionId: txOf.get(id), meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: "6000", measurand: "Energy.Active.Import.Register", unit: "Wh" }] }] });
      const stop = await call(id, "StopTransaction", { transactionId: txOf.get(id), meterStop: 9000, timestamp: new Date().toISOString(), reason: "Local" });
      expect(stop.idTagInfo?.status ?? "Accepted").toBe("Accepted");
    }
    expect((await handled(c)) - before).toBe(gainedByC.length * 2);
    for (const m of managers.values()) await m.flush();
    const rows = await testDb.db.csmsTransaction.findMany({ where: { stationId: { in: ids } } });
    expect(rows).toHaveLength(ids.length);
    expect(rows.filter((r) => r.active || r.meterStopWh !== 9000 || r.energyWh !== 8000)).toEqual([]);
    // Every manager's view says so, whichever handled the stop.
    for (const m of managers.values()) {
      const view = (await api(m.url, TOKEN).get(`/api/v0/stations/${gainedByC[0]}`)).json;
      expect(view.activeTransactionIds).toEqual([]);
    }
  });

  it("a closed manager's stations move to the others, and each call is still handled once", async () => {
    const c = managers.get("c")!;
    managers.delete("c");
    await c.close();
    await allSee(2);
    const before = await totalHandled();
    for (const id of ids) {
      const start = await call(id, "StartTransaction", { connectorId: 1, idTag: "T2", meterStart: 9000, timestamp: new Date().toISOString() });
      txOf.set(id, start.transactionId);
    }
    await eventually(async () => (await totalHandled()) - before === ids.length, "every call handled once");
    for (const m of managers.values()) await m.flush();
    const active = await testDb.db.csmsTransaction.findMany({ where: { stationId: { in: ids }, active: true } });
    expect(active).toHaveLength(ids.length);
    // And alone, the last manager owns everything.
    const b = managers.get("b")!;
    managers.delete("b");
    await b.close();
    await allSee(1);
    const a = managers.get("a")!;
    const mine = await handled(a);
    for (const id of ids) await call(id, "StopTransaction", { transactionId: txOf.get(id), meterStop: 9500, timestamp: new Date().toISOString() });
    expect((await handled(a)) - mine).toBe(ids.length);
    await a.flush();
    expect(await testDb.db.csmsTransaction.count({ where: { stationId: { in: ids }, active: true } })).toBe(0);
  });
});
