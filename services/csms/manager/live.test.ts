import { randomBytes, randomUUID } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../../lib/testing/db";
import { ZCommandRecord, ZManagerCommandResult, ZMeterEvent, ZStationsSnapshot, ZStationView, ZTransactionDetail } from "../../../contracts/csms/api";
import { csmsTopics, envelopeSchema, type Envelope, type OcppVersion } from "../../../contracts/csms/mqtt";
import { eventually, startTestBroker } from "../testkit";
import { api, openSse, type SseEvent } from "./harness";
import { startManager, type Manager } from "./manager";

/**
 * The manager's live figures and command outcomes, driven over the real MQTT contract: this
 * test plays the gateway (publishes station CALLs on `in`, reads answers on `out`, answers
 * manager CALLs with the merged envelope), so every message and every answer is exact.
 */

const TOKEN = "live-test-token-0123456789";
const prefix = `cs-live-${randomBytes(4).toString("hex")}`;
const topics = csmsTopics(prefix);

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let testDb: TestDb;
let manager: Manager;
let http: ReturnType<typeof api>;
let gw: MqttClient;
const answers = new Map<string, Envelope>();
/** How a fake station answers a manager CALL (the id, action and request are merged in as the gateway does). */
type StationReply = (call: Extract<Envelope, { type: 2 }>) => Envelope | undefined;
const replies = new Map<string, StationReply>();
const presenceOnline = async (id: string, version: OcppVersion) =>
  gw.publishAsync(topics.presence(id), JSON.stringify({ online: true, gateway: "gw-test", protocol: version, at: Date.now(), session: randomUUID() }), { qos: 1, retain: true });

let n = 0;
/** Publishes a station CALL as the gateway would and resolves with the manager's answer. */
const call = async (version: OcppVersion, stationId: string, action: string, request: Record<string, unknown>) => {
  const id = `m${++n}`;
  await gw.publishAsync(topics.in(version, stationId), JSON.stringify({ type: 2, action, id, request }));
  await eventually(() => answers.has(id), `answer to ${action} ${id}`);
  const a = answers.get(id)!;
  answers.delete(id);
  return a;
};
/** The result of an answered CALL (fails the test on a CALLERROR). */
const responseOf = (e: Envelope) => {
  if (e.type !== 3) throw new Error(`expected a CALLRESULT, got ${JSON.stringify(e)}`);
  return e.response;
};
const stationEvents = (events: SseEvent[], id: string, from = 0) => events.slice(from).filter((e) => e.event === "station" && e.data.id === id);

beforeAll(async () => {
  broker = await startTestBroker();
  testDb = await createTestDb();
  manager = await startManager({ port: 0, mqttUrl: broker.url, topicPrefix: prefix, db: testDb.db, apiToken: TOKEN, acceptUnknownTokens: true, heartbeatIntervalSec: 60, commandTimeoutMs: 3000 });
  http = api(manager.url, TOKEN);
  gw = await connectAsync(broker.url, { clientId: `gw-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0 });
  gw.on("message", (topic, payload) => {
    const env = envelopeSchema.parse(JSON.parse(payload.toString("utf8"))) as Envelope;
    if (env.type !== 2) return void answers.set(env.id, env);
    const stationId = topic.split("/").pop()!;
    const version = topic.split("/")[2] as OcppVersion;
    const reply = replies.get(stationId)?.(env);
    if (reply) void gw.publishAsync(topics.in(version, stationId), JSON.stringify({ ...reply, id: env.id, action: env.action, request: env.request }));
  });
  await gw.subscribeAsync(`${prefix}/out/+/+`);
});

afterAll(async () => {
  await gw?.endAsync(true);
  await manager?.close();
  await testDb?.close();
  await broker?.close();
});

describe("live figures follow heartbeats and meter values", () => {
  it("emits a station event on a heartbeat at once (leading edge), folds a burst into one more, and lastSeenAt moves", async () => {
    const sse = await openSse(`${manager.url}/api/v0/events`, TOKEN);
    await call("ocpp1.6", "LIVE1", "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });
    await eventually(() => stationEvents(sse.events, "LIVE1").length >= 1, "boot event");
    // Let the boot event's window pass (and its trailing event, however late a busy machine
    // makes it), then a heartbeat is a fresh change: it goes out at once.
    for (let seen = -1; seen !== stationEvents(sse.events, "LIVE1").length; ) {
      seen = stationEvents(sse.events, "LIVE1").length;
      await new Promise((r) => setTimeout(r, 1100));
    }
    const bootAt = Date.parse(stationEvents(sse.events, "LIVE1").at(-1)!.data.lastSeenAt);
    const from = sse.events.length;
    await call("ocpp1.6", "LIVE1", "Heartbeat", {});
    await eventually(() => stationEvents(sse.events, "LIVE1", from).length >= 1, "heartbeat station event");
    const first = ZStationView.parse(stationEvents(sse.events, "LIVE1", from)[0].data);
    expect(Date.parse(first.lastSeenAt!)).toBeGreaterThan(bootAt);
    // A burst inside the window: one trailing event carries the newest lastSeenAt.
    for (let i = 0; i < 5; i++) await call("ocpp1.6", "LIVE1", "Heartbeat", {});
    const lastSeen = Date.parse((await http.get("/api/v0/stations/LIVE1")).json.lastSeenAt);
    await eventually(() => stationEvents(sse.events, "LIVE1", from).some((e) => Date.parse(e.data.lastSeenAt) >= lastSeen), "trailing event with the newest lastSeenAt");
    expect(stationEvents(sse.events, "LIVE1", from).length).toBeLessThanOrEqual(2);
    sse.close();
  });

  it("1.6: power, session energy (register − start) and energy today follow MeterValues; the meter event carries session energy", async () => {
    const sse = await openSse(`${manager.url}/api/v0/events`, TOKEN);
    await call("ocpp1.6", "LIVE2", "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });
    await call("ocpp1.6", "LIVE2", "StatusNotification", { connectorId: 1, status: "Charging", errorCode: "NoError" });
    const start = await call("ocpp1.6", "LIVE2", "StartTransaction", { connectorId: 1, idTag: "T1", meterStart: 18_000_000, timestamp: new Date().toISOString() });
    expect(start.type).toBe(3);
    const txId = String(responseOf(start).transactionId);
    const mv = (wh: number, w: number) => ({
      connectorId: 1,
      transactionId: Number(txId),
      meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [
        { value: String(wh), measurand: "Energy.Active.Import.Register", unit: "Wh" },
        { value: String(w), measurand: "Power.Active.Import", unit: "W" },
      ] }],
    });
    await call("ocpp1.6", "LIVE2", "MeterValues", mv(18_001_500, 7400));
    await eventually(() => stationEvents(sse.events, "LIVE2").some((e) => e.data.powerW === 7400), "station event with power");
    const ev = stationEvents(sse.events, "LIVE2").find((e) => e.data.powerW === 7400)!.data;
    expect(ev.energyTodayWh).toBe(1500);
    const c1 = ev.connectors.find((c: { connectorId: number }) => c.connectorId === 1);
    expect(c1).toMatchObject({ status: "Charging", transactionId: txId, powerW: 7400, sessionEnergyWh: 1500 });
    await eventually(() => sse.events.some((e) => e.event === "meter" && e.data.stationId === "LIVE2"), "meter event");
    const meter = ZMeterEvent.parse(sse.events.find((e) => e.event === "meter" && e.data.stationId === "LIVE2")!.data);
    expect(meter).toMatchObject({ energyWh: 18_001_500, sessionEnergyWh: 1500 });

    await call("ocpp1.6", "LIVE2", "MeterValues", mv(18_003_000, 11_000));
    await eventually(() => stationEvents(sse.events, "LIVE2").some((e) => e.data.powerW === 11_000 && e.data.energyTodayWh === 3000), "trailing event with the newer reading");
    const kpiSource = (await http.get("/api/v0/stations/LIVE2")).json;
    expect(kpiSource).toMatchObject({ powerW: 11_000, energyTodayWh: 3000 });
    await manager.flush();
    const detail = ZTransactionDetail.parse((await http.get(`/api/v0/transactions/${txId}`)).json);
    expect(detail.samples.map((s) => s.sessionEnergyWh)).toEqual([1500, 3000]);
    sse.close();
  });

  it("2.0.1: TransactionEvent Updated and MeterValues move power and energy", async () => {
    const sse = await openSse(`${manager.url}/api/v0/events`, TOKEN);
    await call("ocpp2.0.1", "LIVE3", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    await call("ocpp2.0.1", "LIVE3", "StatusNotification", { timestamp: new Date().toISOString(), connectorStatus: "Occupied", evseId: 1, connectorId: 1 });
    const sample = (wh: number, w: number) => [{ timestamp: new Date().toISOString(), sampledValue: [
      { value: wh, measurand: "Energy.Active.Import.Register" },
      { value: w, measurand: "Power.Active.Import" },
    ] }];
    const base = { timestamp: new Date().toISOString(), seqNo: 0, transactionInfo: { transactionId: "tx-201" }, evse: { id: 1, connectorId: 1 } };
    await call("ocpp2.0.1", "LIVE3", "TransactionEvent", { ...base, eventType: "Started", triggerReason: "CablePluggedIn", meterValue: sample(5000, 0) });
    await call("ocpp2.0.1", "LIVE3", "TransactionEvent", { ...base, seqNo: 1, eventType: "Updated", triggerReason: "MeterValuePeriodic", meterValue: sample(5800, 22_000) });
    await eventually(() => stationEvents(sse.events, "LIVE3").some((e) => e.data.powerW === 22_000 && e.data.energyTodayWh === 800), "2.0.1 live power");
    await call("ocpp2.0.1", "LIVE3", "MeterValues", { evseId: 1, meterValue: sample(6000, 21_000) });
    await eventually(() => stationEvents(sse.events, "LIVE3").some((e) => e.data.powerW === 21_000 && e.data.energyTodayWh === 1000), "2.0.1 MeterValues");
    sse.close();
  });

  it("applies an accepted HeartbeatInterval (1.6 ChangeConfiguration, 2.0.1 SetVariables) to the view and the next boot", async () => {
    await call("ocpp1.6", "LIVE4", "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });
    await presenceOnline("LIVE4", "ocpp1.6");
    replies.set("LIVE4", () => ({ type: 3, id: "", response: { status: "Accepted" } }) as Envelope);
    const res = await http.command("LIVE4", "changeConfiguration", { key: "HeartbeatInterval", value: "120" });
    expect(res.json.status).toBe("accepted");
    expect((await http.get("/api/v0/stations/LIVE4")).json.heartbeatIntervalSec).toBe(120);
    const boot = await call("ocpp1.6", "LIVE4", "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });
    expect(responseOf(boot).interval).toBe(120);

    await call("ocpp2.0.1", "LIVE5", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    await presenceOnline("LIVE5", "ocpp2.0.1");
    replies.set("LIVE5", (c) => {
      const d = (c.request.setVariableData as { component: unknown; variable: unknown }[])[0];
      return { type: 3, id: "", response: { setVariableResult: [{ attributeStatus: "Accepted", component: d.component, variable: d.variable }] } } as unknown as Envelope;
    });
    const res2 = await http.command("LIVE5", "changeConfiguration", { component: "OCPPCommCtrlr", variable: "HeartbeatInterval", value: "300" });
    expect(res2.json.status).toBe("accepted");
    expect((await http.get("/api/v0/stations/LIVE5")).json.heartbeatIntervalSec).toBe(300);
  });
});


describe("command outcomes in words", () => {
  const cmd = async (stationId: string, action: string, params: Record<string, unknown>, timeoutMs?: number) => {
    const commandId = randomUUID();
    const res = await http.request("POST", `/api/v0/stations/${stationId}/commands`, { action, params, commandId, ...(timeoutMs ? { timeoutMs } : {}) });
    expect(res.status).toBe(200);
    const result = ZManagerCommandResult.parse(res.json);
    await manager.flush();
    const record = ZCommandRecord.parse((await http.get(`/api/v0/commands/${commandId}`)).json);
    return { result, record };
  };

  it("rejected carries the station's reason (statusInfo.reasonCode), also in the command record", async () => {
    await call("ocpp2.0.1", "OUT1", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    await presenceOnline("OUT1", "ocpp2.0.1");
    replies.set("OUT1", () => ({ type: 3, id: "", response: { status: "Rejected", statusInfo: { reasonCode: "TxInProgress", additionalInfo: "a session is running" } } }) as Envelope);
    const { result, record } = await cmd("OUT1", "reset", { type: "soft" });
    expect(result).toMatchObject({ status: "rejected", reason: "TxInProgress", reasonDetail: "a session is running", sent: true });
    expect(record).toMatchObject({ status: "rejected", reason: "TxInProgress", sent: true });
  });

  it("1.6 rejection names the status; failed carries the CALLERROR; GatewayTimeout and silence are timed_out; a station not connected is offline and nothing is sent", async () => {
    await call("ocpp1.6", "OUT2", "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });
    await presenceOnline("OUT2", "ocpp1.6");
    let mode: "reject" | "error" | "gwtimeout" | "silent" = "reject";
    replies.set("OUT2", () => {
      if (mode === "reject") return { type: 3, id: "", response: { status: "NotSupported" } } as Envelope;
      if (mode === "error") return { type: 4, id: "", error_code: "NotSupported", error_description: "no such thing here" } as Envelope;
      if (mode === "gwtimeout") return { type: 4, id: "", error_code: "GatewayTimeout", error_description: "no answer in 10 s" } as Envelope;
      return undefined;
    });
    expect((await cmd("OUT2", "triggerMessage", { message: "Heartbeat" })).result).toMatchObject({ status: "rejected", reason: "NotSupported" });
    mode = "error";
    expect((await cmd("OUT2", "clearCache", {})).record).toMatchObject({ status: "failed", errorCode: "NotSupported", errorDescription: "no such thing here", sent: true });
    mode = "gwtimeout";
    expect((await cmd("OUT2", "clearCache", {})).result).toMatchObject({ status: "timed_out", errorCode: "GatewayTimeout", sent: true });
    mode = "silent";
    expect((await cmd("OUT2", "clearCache", {}, 300)).result).toMatchObject({ status: "timed_out", sent: true });

    await call("ocpp1.6", "OUT3", "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });
    await gw.publishAsync(topics.presence("OUT3"), JSON.stringify({ online: false, gateway: "gw-test", protocol: "ocpp1.6", at: Date.now() + 1, session: randomUUID(), reason: "closed" }), { qos: 1, retain: true });
    await eventually(async () => (await http.get("/api/v0/stations/OUT3")).json.online === false, "OUT3 offline");
    const { result, record } = await cmd("OUT3", "clearCache", {});
    expect(result).toMatchObject({ status: "offline", sent: false });
    expect(record).toMatchObject({ status: "offline", sent: false });
  });
});

describe("hostile stations at the manager", () => {
  const errorOf = (e: Envelope) => {
    if (e.type !== 4) throw new Error(`expected a CALLERROR, got ${JSON.stringify(e)}`);
    return { code: e.error_code, description: e.error_description };
  };
  const boot16 = (id: string) => call("ocpp1.6", id, "BootNotification", { chargePointVendor: "Acme", chargePointModel: "Volt" });

  it("refuses a NUL byte with a CALLERROR naming the field, while another station's concurrent calls succeed", async () => {
    await boot16("NUL1");
    await boot16("NUL2");
    const [bad, good, badMeter] = await Promise.all([
      call("ocpp1.6", "NUL1", "Authorize", { idTag: "AB\u0000CD" }),
      call("ocpp1.6", "NUL2", "Authorize", { idTag: "GOOD" }),
      call("ocpp1.6", "NUL1", "MeterValues", { connectorId: 1, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: "1\u0000" }] }] }),
    ]);
    expect(errorOf(bad)).toEqual({ code: "PropertyConstraintViolation", description: expect.stringMatching(/^idTag: contains a NUL character/) });
    expect(errorOf(badMeter).description).toMatch(/^meterValue\.0\.sampledValue\.0\.value:/);
    expect(responseOf(good)).toEqual({ idTagInfo: { status: "Accepted" } });
    // The station itself keeps working.
    expect(responseOf(await call("ocpp1.6", "NUL1", "Heartbeat", {}))).toHaveProperty("currentTime");
  });

  it("scopes transaction ids per station: a 2.0.1 station using numbers cannot make 1.6 StartTransactions fail", async () => {
    await call("ocpp2.0.1", "TXA", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    await boot16("TXB");
    // The 2.0.1 station takes the next numbers the 1.6 sequence would hand out.
    const ahead = Array.from({ length: 12 }, (_, i) => String(i + 1));
    for (const [i, wire] of ahead.entries()) {
      const ev = await call("ocpp2.0.1", "TXA", "TransactionEvent", {
        eventType: "Started", timestamp: new Date().toISOString(), triggerReason: "Authorized", seqNo: 0, transactionInfo: { transactionId: wire }, evse: { id: (i % 2) + 1, connectorId: 1 },
      });
      expect(ev.type).toBe(3);
    }
    const ids = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const start = await call("ocpp1.6", "TXB", "StartTransaction", { connectorId: (i % 2) + 1, idTag: "T", meterStart: 0, timestamp: new Date().toISOString() });
      ids.add(String(responseOf(start).transactionId));
    }
    expect(ids.size).toBe(6);
    const view = (await http.get("/api/v0/stations/TXA")).json;
    for (const id of view.activeTransactionIds) expect(id).toMatch(/^TXA:/);
    // A repeated Started for the same id is the same transaction, not a second one.
    await call("ocpp2.0.1", "TXA", "TransactionEvent", { eventType: "Started", timestamp: new Date().toISOString(), triggerReason: "Authorized", seqNo: 0, transactionInfo: { transactionId: "12" }, evse: { id: 1, connectorId: 1 } });
    expect((await http.get("/api/v0/transactions?stationId=TXA&active=true")).json.items.filter((t: { id: string }) => t.id === "TXA:12")).toHaveLength(1);
  });

  it("refuses connector and EVSE ids beyond the station (or absurd)", async () => {
    await boot16("CONN1");
    const a = await call("ocpp1.6", "CONN1", "StatusNotification", { connectorId: 999_999, status: "Available", errorCode: "NoError" });
    expect(errorOf(a)).toEqual({ code: "PropertyConstraintViolation", description: "connectorId: 999999 is beyond this station's connectors (at most 32)" });
    const b = await call("ocpp1.6", "CONN1", "StartTransaction", { connectorId: 999_999, idTag: "T", meterStart: 0, timestamp: new Date().toISOString() });
    expect(errorOf(b).code).toBe("PropertyConstraintViolation");
    await call("ocpp2.0.1", "CONN2", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    const c = await call("ocpp2.0.1", "CONN2", "StatusNotification", { timestamp: new Date().toISOString(), connectorStatus: "Available", evseId: 5000, connectorId: 1 });
    expect(errorOf(c).description).toMatch(/^evseId: 5000/);
    const view = (await http.get("/api/v0/stations/CONN1")).json;
    expect(view.connectors).toEqual([]);
    expect(view.activeTransactionIds).toEqual([]);
  });

  it("a new StartTransaction on a connector with an open one closes the old; a 1.6 reboot closes the rest", async () => {
    await boot16("SUP1");
    const first = String(responseOf(await call("ocpp1.6", "SUP1", "StartTransaction", { connectorId: 1, idTag: "T", meterStart: 0, timestamp: new Date().toISOString() })).transactionId);
    const second = String(responseOf(await call("ocpp1.6", "SUP1", "StartTransaction", { connectorId: 1, idTag: "T", meterStart: 10, timestamp: new Date().toISOString() })).transactionId);
    const other = String(responseOf(await call("ocpp1.6", "SUP1", "StartTransaction", { connectorId: 2, idTag: "T", meterStart: 0, timestamp: new Date().toISOString() })).transactionId);
    expect((await http.get("/api/v0/stations/SUP1")).json.activeTransactionIds.sort()).toEqual([second, other].sort());
    expect((await http.get(`/api/v0/transactions/${first}`)).json).toMatchObject({ active: false, stopReason: "NewTransactionOnConnector" });
    await boot16("SUP1");
    expect((await http.get("/api/v0/stations/SUP1")).json.activeTransactionIds).toEqual([]);
    expect((await http.get(`/api/v0/transactions/${other}`)).json).toMatchObject({ active: false, stopReason: "Reboot" });
    // The StopTransaction it had queued still lands and carries the real figures.
    await call("ocpp1.6", "SUP1", "StopTransaction", { transactionId: Number(other), meterStop: 4200, timestamp: new Date().toISOString(), reason: "PowerLoss" });
    expect((await http.get(`/api/v0/transactions/${other}`)).json).toMatchObject({ active: false, stopReason: "PowerLoss", energyWh: 4200 });
  });

  it("2.0.1: after a boot, asks GetTransactionStatus for each open transaction and closes the ones the station no longer has", async () => {
    const v = "ocpp2.0.1" as const;
    await call(v, "GTS1", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    for (const [evse, wire] of [[1, "gone"], [2, "still"]] as const) {
      await call(v, "GTS1", "TransactionEvent", { eventType: "Started", timestamp: new Date().toISOString(), triggerReason: "Authorized", seqNo: 0, transactionInfo: { transactionId: wire }, evse: { id: evse, connectorId: 1 } });
    }
    await presenceOnline("GTS1", v);
    const asked: string[] = [];
    replies.set("GTS1", (c) => {
      if (c.action !== "GetTransactionStatus") return undefined;
      const id = String(c.request.transactionId);
      asked.push(id);
      return { type: 3, id: "", response: { ongoingIndicator: id === "still", messagesInQueue: false } } as Envelope;
    });
    await call(v, "GTS1", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    await eventually(async () => (await http.get("/api/v0/stations/GTS1")).json.activeTransactionIds.length === 1, "the ended transaction closed", 15_000);
    await eventually(() => asked.length === 2, "both transactions asked about");
    expect(asked.sort()).toEqual(["gone", "still"]);
    expect((await http.get("/api/v0/stations/GTS1")).json.activeTransactionIds).toEqual(["GTS1:still"]);
    expect((await http.get("/api/v0/transactions/GTS1:gone")).json).toMatchObject({ active: false, stopReason: "EndedWhileOffline" });
  });

  it("answers NotSupported for a recognised action it does not support", async () => {
    await call("ocpp2.0.1", "NS1", "BootNotification", { reason: "PowerUp", chargingStation: { vendorName: "Acme", model: "Volt2" } });
    const a = await call("ocpp2.0.1", "NS1", "GetCertificateStatus", { ocspRequestData: {} });
    expect(errorOf(a).code).toBe("NotSupported");
    const metrics = await (await fetch(`${manager.url}/metrics`)).text();
    expect(metrics).toMatch(/csms_manager_refused_calls_total\{reason="unsupported"\} [1-9]/);
  });
});

describe("lists and snapshots of a big fleet", () => {
  it("pages GET /stations and streams the snapshot across database chunks", async () => {
    const ids = Array.from({ length: 2300 }, (_, i) => `BIG${String(i).padStart(5, "0")}`);
    await testDb.db.csmsStation.createMany({ data: ids.map((id, i) => ({ id, protocol: "ocpp1.6", vendor: i % 2 ? "Acme" : "Volta", serialNumber: `SER-${i}` })) });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await http.get(`/api/v0/stations?q=BIG&limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.json.total).toBe(2300);
      seen.push(...res.json.items.map((s: { id: string }) => s.id));
      cursor = res.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    // Search matches vendor and serial number too; the online filter pages as well.
    expect((await http.get("/api/v0/stations?q=volta&limit=1")).json.total).toBe(1150);
    expect((await http.get("/api/v0/stations?q=SER-2299")).json.items.map((s: { id: string }) => s.id)).toEqual(["BIG02299"]);
    const offline = await http.get("/api/v0/stations?q=BIG&online=false&limit=5");
    expect(offline.json).toMatchObject({ total: 2300, items: expect.any(Array), nextCursor: expect.any(String) });
    // A manager starting on this database loads the whole fleet into memory before it is asked.
    const second = await startManager({ port: 0, mqttUrl: broker.url, topicPrefix: `${prefix}-2`, db: testDb.db, apiToken: TOKEN });
    try {
      const cached = async () => Number(/csms_manager_cached_stations (\d+)/.exec(await (await fetch(`${second.url}/metrics`)).text())?.[1] ?? 0);
      await eventually(async () => (await cached()) >= 2300, "cache warmed");
    } finally {
      await second.close();
    }
    const snap = ZStationsSnapshot.parse((await http.get("/api/v0/stations/snapshot")).json);
    expect(snap.stations.filter((s) => s.id.startsWith("BIG"))).toHaveLength(2300);
    expect(new Set(snap.stations.map((s) => s.id)).size).toBe(snap.stations.length);
  });
});
