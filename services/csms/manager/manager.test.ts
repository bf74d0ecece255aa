import { randomBytes, randomUUID } from "node:crypto";
import { RPCClient } from "ocpp-rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../../lib/testing/db";
import { startStationSim, type StationSim } from "../../../sim/ocpp/station";
import { createManagerAuthenticator } from "../gateway/auth";
import { startGateway, type Gateway } from "../gateway/gateway";
import { ZCommandRecord } from "../../../contracts/csms/api";
import { csmsTopics, type OcppVersion } from "../../../contracts/csms/mqtt";
import { eventually, startTestBroker } from "../testkit";
import { mapCommand } from "./commands";
import { api, metricValue, observe, openSse } from "./harness";
import { startManager, type Manager } from "./manager";

const TOKEN = "test-api-token-0123456789";
const GW_TOKEN = "test-gateway-token-0123456789";
const prefix = `cs-mgr-${randomBytes(4).toString("hex")}`;
const topics = csmsTopics(prefix);

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let testDb: TestDb;
let manager: Manager;
let gateway: Gateway;
let http: ReturnType<typeof api>;
let observer: Awaited<ReturnType<typeof observe>>;
const sims: StationSim[] = [];

const startSim = async (id: string, protocol: OcppVersion, password = `pw-${id}`, connectors = 2) => {
  const sim = await startStationSim({ id, url: gateway.url, password, protocol, connectors, behaviour: "idle", speed: 120, meterIntervalMs: 250, rebootDelayMs: [100, 300], bootRetryMs: 500 });
  sims.push(sim);
  return sim;
};
const station = async (id: string) => (await http.get(`/api/v0/stations/${id}`)).json;
const waitStation = (id: string, accept: (s: Record<string, any>) => boolean, what = "station state") => // eslint-disable-line @typescript-eslint/no-explicit-any
  eventually(async () => {
    const s = await http.get(`/api/v0/stations/${id}`);
    return s.status === 200 && accept(s.json);
  }, `${id}: ${what}`);
const outCallsFor = (stationId: string, from = 0) => observer.seen.slice(from).filter((m) => m.direction === "out" && m.envelope.type === 2 && m.stationId === stationId);
/**
 * Sends a command to a live station and waits until its CALL shows up on the out topics.
 * The manager publishes on one connection in order, so every CALL it published before the
 * barrier has been seen by then: "nothing was sent" is proven without sleeping.
 */
const barrier = async (stationId = "S16") => {
  const from = observer.seen.length;
  expect((await http.command(stationId, "clearCache")).json.status).toBe("accepted");
  await eventually(() => outCallsFor(stationId, from).some((m) => m.envelope.type === 2 && m.envelope.action === "ClearCache"), "the barrier call on the out topic");
};

beforeAll(async () => {
  broker = await startTestBroker();
  testDb = await createTestDb();
  manager = await startManager({
    port: 0,
    mqttUrl: broker.url,
    topicPrefix: prefix,
    db: testDb.db,
    apiToken: TOKEN,
    gatewayToken: GW_TOKEN,
    acceptUnknownTokens: false,
    heartbeatIntervalSec: 30,
    commandTimeoutMs: 8000,
    sweepIntervalMs: 200,
  });
  http = api(manager.url, TOKEN);
  gateway = await startGateway({
    port: 0,
    mqttUrl: broker.url,
    topicPrefix: prefix,
    authenticate: createManagerAuthenticator({ managerUrl: manager.url, token: GW_TOKEN, cacheTtlMs: 0 }),
  });
  observer = await observe(broker.url, prefix);
  for (const idTag of ["TAG-OK-1", "TAG-OK-2", "TAG-REMOTE"]) expect((await http.post("/api/v0/tokens", { idTag })).status).toBe(201);
});

afterAll(async () => {
  await Promise.allSettled(sims.map((s) => s.close()));
  await gateway?.close();
  await observer?.close();
  await manager?.close();
  await testDb?.close();
  await broker?.close();
});

describe("registration and the gateway's auth lookup", () => {
  it("registers stations MaEVe-style and answers the gateway's lookup", async () => {
    const anon = api(manager.url, "wrong-token-wrong-token");
    expect((await anon.register("REG1", "secret-1")).status).toBe(401);
    expect((await http.register("REG1", "secret-1")).status).toBe(201);
    expect((await http.post("/api/v0/cs/REG1", { securityProfile: 0, base64SHA256Password: "nope" })).status).toBe(400);
    expect((await http.post("/api/v0/cs/bad%2Fid", { securityProfile: 0 })).status).toBe(400);

    const lookup = (id: string, token?: string) => fetch(`${manager.url}/api/v0/cs/${id}/auth`, { headers: token ? { "x-gateway-token": token } : {} });
    expect((await lookup("REG1")).status).toBe(401);
    expect((await lookup("REG1", "wrong")).status).toBe(401);
    expect((await lookup("NOPE", GW_TOKEN)).status).toBe(404);
    const res = await lookup("REG1", GW_TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ securityProfile: 0, base64SHA256Password: expect.any(String), invalidUsernameAllowed: false });
  });

  it("lets a registered station in and refuses a wrong password or an unknown station at the gateway", async () => {
    expect((await http.register("AUTH1", "right-password")).status).toBe(201);
    const tryConnect = async (id: string, password: string) => {
      const client = new RPCClient({ endpoint: `${gateway.url}/ws`, identity: id, password, protocols: ["ocpp1.6"], reconnect: false } as unknown as ConstructorParameters<typeof RPCClient>[0]);
      try {
        await client.connect();
        await client.close({ force: true });
        return "open";
      } catch (error) {
        return String((error as Error).message);
      }
    };
    expect(await tryConnect("AUTH1", "wrong-password")).toMatch(/401|Unauthorized/);
    expect(await tryConnect("UNKNOWN1", "whatever")).toMatch(/401|Unauthorized/);
    expect(await tryConnect("AUTH1", "right-password")).toBe("open");
  });
});

describe.each([
  ["ocpp1.6", "S16"],
  ["ocpp2.0.1", "S201"],
] as const)("a simulated %s station", (protocol, id) => {
  let sim: StationSim;
  beforeAll(async () => {
    expect((await http.register(id, `pw-${id}`)).status).toBe(201);
    sim = await startSim(id, protocol);
    await sim.waitForBoot();
  });

  it("boots, reports status and shows up online in the API", async () => {
    await waitStation(id, (s) => s.online && s.connectors.length === 2 && s.connectors.every((c: { status: string }) => c.status === "Available"), "online with 2 Available connectors");
    const s = await station(id);
    expect(s).toMatchObject({ id, protocol, online: true, vendor: "Switchyard", firmwareVersion: "1.4.2", heartbeatIntervalSec: 30, activeTransactionIds: [] });
    expect(s.bootedAt).toEqual(expect.any(String));
    expect(s.gateway).toBe(gateway.gatewayId);
    const list = await http.get(`/api/v0/stations?protocol=${protocol}&online=true`);
    expect(list.json.items.map((x: { id: string }) => x.id)).toContain(id);
    expect(sim.state().heartbeatIntervalS).toBe(30);
  });

  it("records a transaction with meter values and its end", async () => {
    await sim.plugIn(1, { idTag: "TAG-OK-1" });
    await waitStation(id, (s) => s.activeTransactionIds.length === 1, "an active transaction");
    const txId = (await station(id)).activeTransactionIds[0] as string;
    if (protocol === "ocpp1.6") expect(txId).toMatch(/^\d+$/);
    else expect(txId).toBe(`${id}:${sim.state().connectors[0].transaction?.id}`);
    await eventually(async () => ((await http.get(`/api/v0/transactions/${encodeURIComponent(txId)}`)).json.samples?.length ?? 0) >= 3, "meter samples");
    const detail = (await http.get(`/api/v0/transactions/${encodeURIComponent(txId)}`)).json;
    expect(detail).toMatchObject({ id: txId, stationId: id, evseId: 1, connectorId: 1, idTag: "TAG-OK-1", active: true, stoppedAt: null });
    expect(detail.samples.some((x: { powerW: number | null }) => (x.powerW ?? 0) > 0)).toBe(true);
    expect(detail.samples.some((x: { energyWh: number | null }) => x.energyWh !== null)).toBe(true);
    await waitStation(id, (s) => (s.powerW ?? 0) > 0, "power while charging");
    await eventually(async () => (await http.get(`/api/v0/transactions?stationId=${id}&active=true`)).json.items[0]?.energyWh > 0, "running energy");

    await sim.stopTransaction(1);
    await eventually(async () => (await http.get(`/api/v0/transactions/${encodeURIComponent(txId)}`)).json.active === false, "transaction ended");
    const ended = (await http.get(`/api/v0/transactions/${encodeURIComponent(txId)}`)).json;
    expect(ended.stoppedAt).toEqual(expect.any(String));
    expect(ended.energyWh).toBeGreaterThan(0);
    expect(ended.meterStopWh).toBeGreaterThan(ended.meterStartWh);
    expect(ended.stopReason).toBe("Local");
    const txs = (await http.get(`/api/v0/transactions?stationId=${id}`)).json;
    expect(txs.total).toBe(1);
    expect(txs.items[0].id).toBe(txId);
    await waitStation(id, (s) => s.activeTransactionIds.length === 0 && s.energyTodayWh > 0, "no active transaction, energy today");
    await sim.unplug(1);
  });

  it("refuses a Blocked token at Authorize", async () => {
    expect((await http.post("/api/v0/tokens", { idTag: `BLK-${id}`, status: "Blocked" })).status).toBe(201);
    const before = (await http.get(`/api/v0/transactions?stationId=${id}`)).json.total;
    await sim.plugIn(2, { idTag: `BLK-${id}` });
    await manager.flush();
    const log = (await http.get(`/api/v0/stations/${id}/messages?limit=50`)).json.items as { action: string | null; direction: string; type: number; payload: Record<string, any> }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const answer = log.find((m) => m.direction === "out" && m.type === 3 && JSON.stringify(m.payload).includes("Blocked"));
    expect(answer).toBeDefined();
    // Stored as a JSON object (the log is written with one unnest statement per chunk), not as text.
    expect(answer!.payload).toMatchObject({ type: 3, id: expect.any(String), response: expect.any(Object) });
    expect((await http.get(`/api/v0/transactions?stationId=${id}`)).json.total).toBe(before);
    await sim.unplug(2);
  });
});

describe("the live feed", () => {
  it("delivers changes, resumes from Last-Event-ID and asks a foreign epoch to resync", async () => {
    const snap = (await http.get("/api/v0/stations/snapshot")).json;
    expect(snap).toMatchObject({ epoch: expect.any(String), seq: expect.any(Number) });
    expect(snap.stations.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining(["S16", "S201"]));

    const sse = await openSse(`${manager.url}/api/v0/events`, TOKEN);
    const sim = sims.find((s) => s.id === "S16")!;
    await sim.fault(2, { errorCode: "GroundFailure" });
    await eventually(() => sse.events.some((e) => e.event === "station" && e.data.id === "S16" && e.data.connectors.some((c: { status: string }) => c.status === "Faulted")), "Faulted in the feed");
    const faulted = sse.events.find((e) => e.event === "station" && e.data.id === "S16" && e.data.connectors.some((c: { status: string }) => c.status === "Faulted"))!;
    expect(faulted.id).toMatch(new RegExp(`^${snap.epoch}\\.\\d+$`));
    expect(faulted.data.connectors.find((c: { connectorId: number }) => c.connectorId === 2).errorCode).toBe("GroundFailure");
    await sim.clearFault(2);
    await eventually(() => sse.events.some((e) => e.event === "station" && e.data.id === "S16" && e.data.connectors.every((c: { status: string }) => c.status !== "Faulted")), "fault cleared in the feed");
    sse.close();

    // Resume right after the Faulted event: everything after it is replayed, nothing before.
    const resumed = await openSse(`${manager.url}/api/v0/events`, TOKEN, faulted.id);
    await eventually(() => resumed.events.length > 0, "replay");
    const [epoch, seq] = faulted.id!.split(".");
    expect(resumed.events[0].id).toBe(`${epoch}.${Number(seq) + 1}`);
    expect(resumed.events.some((e) => e.event === "station" && e.data.id === "S16" && e.data.connectors.every((c: { status: string }) => c.status !== "Faulted"))).toBe(true);
    resumed.close();

    const foreign = await openSse(`${manager.url}/api/v0/events`, TOKEN, "deadbeef.42");
    await eventually(() => foreign.events.length > 0, "resync");
    expect(foreign.events[0].event).toBe("resync");
    foreign.close();

    expect((await fetch(`${manager.url}/api/v0/events`)).status).toBe(401);
  });

  it("carries transaction and (coalesced) meter events", async () => {
    const sse = await openSse(`${manager.url}/api/v0/events`, TOKEN);
    const sim = sims.find((s) => s.id === "S201")!;
    await sim.plugIn(1, { idTag: "TAG-OK-2" });
    await eventually(() => sse.events.some((e) => e.event === "transaction" && e.data.stationId === "S201" && e.data.active), "transaction event");
    await eventually(() => sse.events.filter((e) => e.event === "meter" && e.data.stationId === "S201").length >= 2, "meter events");
    const meter = sse.events.find((e) => e.event === "meter" && e.data.stationId === "S201")!;
    expect(meter.data).toMatchObject({ stationId: "S201", evseId: 1, connectorId: 1, transactionId: expect.any(String), at: expect.any(String) });
    await sim.stopTransaction(1);
    await eventually(() => sse.events.some((e) => e.event === "transaction" && e.data.stationId === "S201" && !e.data.active), "transaction ended event");
    await sim.unplug(1);
    sse.close();
  });
});

type Case = { action: string; params: Record<string, unknown>; status: string; check?: (r: Record<string, any>) => void }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each([
  ["ocpp1.6", "C16"],
  ["ocpp2.0.1", "C201"],
] as const)("commands to a %s station", (protocol, id) => {
  let sim: StationSim;
  const v16 = protocol === "ocpp1.6";
  beforeAll(async () => {
    expect((await http.register(id, `pw-${id}`)).status).toBe(201);
    sim = await startSim(id, protocol);
    await sim.waitForBoot();
    await waitStation(id, (s) => s.online && s.connectors.length === 2, "online");
  });

  it("starts and stops a transaction remotely", async () => {
    const start = await http.command(id, "remoteStart", v16 ? { connectorId: 1, idTag: "TAG-REMOTE" } : { evseId: 1, idTag: "TAG-REMOTE" });
    expect(start.status).toBe(200);
    expect(start.json).toMatchObject({ status: "accepted", ocppAction: v16 ? "RemoteStartTransaction" : "RequestStartTransaction", response: { status: "Accepted" } });
    await waitStation(id, (s) => s.activeTransactionIds.length === 1, "remote transaction");
    const txId = (await station(id)).activeTransactionIds[0] as string;
    if (!v16) {
      const st = await http.command(id, "getTransactionStatus", { transactionId: txId });
      expect(st.json).toMatchObject({ status: "accepted", ocppAction: "GetTransactionStatus", response: { ongoingIndicator: true } });
    }
    const stop = await http.command(id, "remoteStop", { transactionId: txId });
    expect(stop.json).toMatchObject({ status: "accepted", ocppAction: v16 ? "RemoteStopTransaction" : "RequestStopTransaction" });
    await waitStation(id, (s) => s.activeTransactionIds.length === 0, "remote transaction stopped");
    expect((await http.command(id, "remoteStop", { transactionId: v16 ? "999999" : "no-such-tx" })).json.status).toBe("rejected");
  });

  it("runs every command in the catalogue", async () => {
    const cases: Case[] = [
      { action: "unlockConnector", params: { connectorId: 1 }, status: "accepted" },
      { action: "unlockConnector", params: { connectorId: 9 }, status: "rejected" },
      { action: "changeAvailability", params: { connectorId: 2, available: false }, status: "accepted" },
      { action: "changeAvailability", params: { connectorId: 2, available: true }, status: "accepted" },
      { action: "triggerMessage", params: { message: "Heartbeat" }, status: "accepted" },
      { action: "triggerMessage", params: { message: "StatusNotification", connectorId: 1 }, status: "accepted" },
      { action: "clearCache", params: {}, status: "accepted" },
      { action: "setChargingProfile", params: { connectorId: 1, limitW: 7000 }, status: "accepted" },
      v16
        ? { action: "getConfiguration", params: {}, status: "accepted", check: (r) => expect(r.response.configurationKey.length).toBeGreaterThan(10) }
        : { action: "getConfiguration", params: {}, status: "accepted", check: (r) => expect(r.ocppAction).toBe("GetBaseReport") },
      v16
        ? { action: "getConfiguration", params: { keys: ["HeartbeatInterval"] }, status: "accepted", check: (r) => expect(r.response.configurationKey[0]).toMatchObject({ key: "HeartbeatInterval", value: "30" }) }
        : {
            action: "getConfiguration",
            params: { keys: ["OCPPCommCtrlr.HeartbeatInterval", "EVSE@1.AvailabilityState"] },
            status: "accepted",
            check: (r) => {
              expect(r.ocppAction).toBe("GetVariables");
              expect(r.response.getVariableResult[0]).toMatchObject({ attributeStatus: "Accepted", attributeValue: "30" });
            },
          },
      v16
        ? { action: "changeConfiguration", params: { key: "MeterValueSampleInterval", value: "45" }, status: "accepted" }
        : { action: "changeConfiguration", params: { component: "SampledDataCtrlr", variable: "TxUpdatedInterval", value: "45" }, status: "accepted" },
      v16
        ? { action: "changeConfiguration", params: { key: "NumberOfConnectors", value: "5" }, status: "rejected" }
        : { action: "changeConfiguration", params: { component: "ChargingStation", variable: "Model", value: "X" }, status: "rejected" },
    ];
    for (const c of cases) {
      const r = await http.command(id, c.action, c.params);
      expect(r.status, `${c.action} ${JSON.stringify(c.params)}`).toBe(200);
      expect(r.json.status, `${c.action} ${JSON.stringify(c.params)} → ${JSON.stringify(r.json)}`).toBe(c.status);
      c.check?.(r.json);
    }
    // Stored configuration: 1.6 keys from GetConfiguration, 2.0.1 variables from NotifyReport.
    if (v16) {
      await waitStation(id, (s) => s.configuration?.some((k: { key: string; value: string }) => k.key === "MeterValueSampleInterval" && k.value === "45"), "configuration stored");
    } else {
      await waitStation(
        id,
        (s) => s.variables?.some((v: { component: string; variable: string; value: string }) => v.component === "SampledDataCtrlr" && v.variable === "TxUpdatedInterval" && v.value === "45"),
        "variables stored",
      );
      await waitStation(id, (s) => s.variables?.some((v: { component: string }) => v.component === "EVSE@1"), "report stored");
    }
    if (v16) expect((await http.command(id, "getTransactionStatus", {})).status).toBe(400);
  });

  it("resets the station, which boots again", async () => {
    const bootedAt = (await station(id)).bootedAt as string;
    const r = await http.command(id, "reset", { type: v16 ? "soft" : "hard" });
    expect(r.json).toMatchObject({ status: "accepted", ocppAction: "Reset", request: { type: v16 ? "Soft" : "Immediate" } });
    await waitStation(id, (s) => s.bootedAt !== bootedAt && s.online, "booted again");
  });

  it("refuses bad input with 400 and sends nothing", async () => {
    const before = observer.seen.length;
    const bad = [
      { action: "explode", params: {} },
      { action: "reset", params: { type: "sideways" } },
      { action: "remoteStart", params: {} },
      { action: "changeAvailability", params: { available: "yes" } },
      { action: "triggerMessage", params: { message: "NoSuchMessage" } },
      { action: "setChargingProfile", params: { limitW: -5 } },
      { action: "clearCache", params: { extra: 1 } },
    ];
    for (const b of bad) {
      const r = await http.post(`/api/v0/stations/${id}/commands`, b);
      expect(r.status, JSON.stringify(b)).toBe(400);
      expect(r.json.error).toBe("invalid_input");
    }
    expect((await http.post(`/api/v0/stations/${id}/commands`, "{not json")).status).toBe(400);
    expect((await http.command("NO-SUCH-STATION", "clearCache")).status).toBe(404);
    await barrier(id);
    expect(outCallsFor(id, before).map((m) => m.envelope.type === 2 && m.envelope.action)).toEqual(["ClearCache"]);
  });
});

describe("offline stations", () => {
  it("answers offline at once, without publishing, for a station that never connected", async () => {
    expect((await http.register("OFF1", "pw-OFF1")).status).toBe(201);
    const r = await http.command("OFF1", "reset", { type: "soft" });
    expect(r.json).toMatchObject({ status: "offline" });
    await barrier();
    expect(outCallsFor("OFF1")).toEqual([]);
  });

  it("marks a station offline when its socket closes, and commands get offline", async () => {
    expect((await http.register("OFF2", "pw-OFF2")).status).toBe(201);
    const sim = await startSim("OFF2", "ocpp2.0.1");
    await sim.waitForBoot();
    await waitStation("OFF2", (s) => s.online, "online");
    const sse = await openSse(`${manager.url}/api/v0/events`, TOKEN);
    await sim.close();
    await waitStation("OFF2", (s) => !s.online, "offline");
    await eventually(() => sse.events.some((e) => e.event === "station" && e.data.id === "OFF2" && !e.data.online), "offline event");
    sse.close();
    const before = observer.seen.length;
    expect((await http.command("OFF2", "clearCache")).json.status).toBe("offline");
    await barrier();
    expect(outCallsFor("OFF2", before)).toEqual([]);
    expect((await http.get("/api/v0/stations?online=false")).json.items.map((s: { id: string }) => s.id)).toContain("OFF2");
  });
});

describe("command records", () => {
  const send = (id: string, commandId: string, action = "clearCache", params: unknown = {}) => http.post(`/api/v0/stations/${id}/commands`, { action, params, commandId });

  it("keeps the outcome under the console's commandId, and a repeat returns it without sending again", async () => {
    const commandId = randomUUID();
    const from = observer.seen.length;
    const first = await send("S16", commandId);
    expect(first.json).toMatchObject({ status: "accepted", ocppAction: "ClearCache" });
    const record = await http.get(`/api/v0/commands/${commandId}`);
    expect(record.status).toBe(200);
    expect(ZCommandRecord.parse(record.json)).toMatchObject({ commandId, stationId: "S16", status: "accepted", ocppAction: "ClearCache", completedAt: expect.any(String) });

    // Twice more, one of them while a third copy runs in parallel: the same answer, no new CALL.
    const [again, parallel] = await Promise.all([send("S16", commandId), send("S16", commandId)]);
    expect(again.json).toEqual(first.json);
    expect(parallel.json).toEqual(first.json);
    await barrier();
    expect(outCallsFor("S16", from).filter((m) => m.envelope.type === 2 && m.envelope.action === "ClearCache")).toHaveLength(2); // the command and the barrier
  });

  it("sends once for parallel first requests with the same commandId", async () => {
    const commandId = randomUUID();
    const from = observer.seen.length;
    const answers = await Promise.all([1, 2, 3].map(() => send("S201", commandId, "triggerMessage", { message: "Heartbeat" })));
    expect(answers.map((a) => a.json.status)).toEqual(["accepted", "accepted", "accepted"]);
    await barrier("S201");
    expect(outCallsFor("S201", from).filter((m) => m.envelope.type === 2 && m.envelope.action === "TriggerMessage")).toHaveLength(1);
  });

  it("refuses a commandId reused for another command, and knows nothing of unknown ones", async () => {
    const commandId = randomUUID();
    expect((await send("S16", commandId)).json.status).toBe("accepted");
    expect((await send("S16", commandId, "reset", { type: "soft" })).status).toBe(409);
    expect((await send("S201", commandId)).status).toBe(409);
    expect((await http.get(`/api/v0/commands/${randomUUID()}`)).status).toBe(404);
    expect((await http.get("/api/v0/commands/not-a-uuid")).status).toBe(400);
    const unknownStation = randomUUID();
    expect((await send("NO-SUCH-STATION", unknownStation)).status).toBe(404);
    expect((await http.get(`/api/v0/commands/${unknownStation}`)).status).toBe(404);
    const invalid = randomUUID();
    expect((await send("S16", invalid, "reset", { type: "sideways" })).status).toBe(400);
    expect((await http.get(`/api/v0/commands/${invalid}`)).status).toBe(404);
  });

  it("writes records behind to the database, where another manager finds them", async () => {
    const commandId = randomUUID();
    expect((await send("S16", commandId)).json.status).toBe("accepted");
    await manager.flush();
    expect(await testDb.db.csmsCommandResult.findUnique({ where: { commandId } })).toMatchObject({ stationId: "S16", action: "clearCache", status: "accepted" });
    // A record whose manager died while waiting reads as timed out once its deadline passed.
    const orphan = randomUUID();
    const longAgo = new Date(Date.now() - 3_600_000);
    await testDb.db.csmsCommandResult.create({ data: { commandId: orphan, stationId: "S16", action: "reset", status: "pending", receivedAt: longAgo, deadlineAt: longAgo } });

    // Its own topics: it must answer from the table, not from the station traffic.
    const other = await startManager({ port: 0, mqttUrl: broker.url, topicPrefix: `${prefix}-other`, db: testDb.db, apiToken: TOKEN, managerId: "other" });
    try {
      const otherHttp = api(other.url, TOKEN);
      expect((await otherHttp.get(`/api/v0/commands/${commandId}`)).json).toMatchObject({ commandId, status: "accepted" });
      expect((await otherHttp.get(`/api/v0/commands/${orphan}`)).json).toMatchObject({ commandId: orphan, status: "timed_out", errorDescription: expect.stringMatching(/stopped/) });
      // Repeating it through the other manager returns the stored outcome instead of sending again.
      const from = observer.seen.length;
      expect((await otherHttp.post("/api/v0/stations/S16/commands", { action: "clearCache", params: {}, commandId })).json).toMatchObject({ status: "accepted" });
      await barrier();
      expect(outCallsFor("S16", from).filter((m) => m.envelope.type === 2 && m.envelope.action === "ClearCache")).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});

describe("gateway liveness", () => {
  it("takes every station of a gateway offline when the gateway's will fires", async () => {
    expect((await http.register("GWX", "pw-GWX")).status).toBe(201);
    const now = Date.now();
    await observer.client.publishAsync(topics.presence("GWX"), JSON.stringify({ online: true, gateway: "gw-fake", protocol: "ocpp1.6", at: now, session: "s1" }), { qos: 1 });
    await waitStation("GWX", (s) => s.online && s.gateway === "gw-fake", "online via presence");
    await observer.client.publishAsync(topics.gateway("gw-fake"), JSON.stringify({ online: false, gateway: "gw-fake", at: now + 1, reason: "connection lost" }), { qos: 1 });
    await waitStation("GWX", (s) => !s.online, "offline with its gateway");
  });
});

describe("bad MQTT payloads", () => {
  it("counts and ignores malformed payloads on the in topics", async () => {
    const metrics = async () => (await fetch(`${manager.url}/metrics`)).text();
    const before = metricValue(await metrics(), "csms_manager_bad_payloads_total");
    const topic = topics.in("ocpp1.6", "S16");
    await observer.client.publishAsync(topic, "not json at all");
    await observer.client.publishAsync(topic, JSON.stringify({ type: 9, id: "x" }));
    await observer.client.publishAsync(topic, JSON.stringify({ type: 2, action: "Heartbeat", request: {} }));
    await observer.client.publishAsync(topic, JSON.stringify({ type: 2, action: "Heart beat!", id: "a", request: {} }));
    await eventually(async () => metricValue(await metrics(), "csms_manager_bad_payloads_total") >= before + 4, "bad payloads counted");
    // Nothing was answered, and the station still works.
    expect(observer.seen.filter((m) => m.direction === "out" && m.envelope.id === "a")).toHaveLength(0);
    const r = await http.command("S16", "triggerMessage", { message: "Heartbeat" });
    expect(r.json.status).toBe("accepted");
  });
});

describe("message log", () => {
  it("lists frames newest first with paging, and exports CSV", async () => {
    await manager.flush();
    const page1 = await http.get("/api/v0/stations/S16/messages?limit=5");
    expect(page1.status).toBe(200);
    expect(page1.json.items).toHaveLength(5);
    expect(page1.json.nextCursor).toEqual(expect.any(String));
    const ids = page1.json.items.map((m: { id: string }) => BigInt(m.id));
    expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);
    const page2 = await http.get(`/api/v0/stations/S16/messages?limit=5&cursor=${page1.json.nextCursor}`);
    expect(BigInt(page2.json.items[0].id)).toBeLessThan(ids[ids.length - 1]);
    const all = (await http.get("/api/v0/stations/S16/messages?limit=1000")).json.items as { direction: string; type: number; action: string | null; messageId: string }[];
    const boot = all.find((m) => m.direction === "in" && m.type === 2 && m.action === "BootNotification")!;
    expect(boot).toBeDefined();
    expect(all.some((m) => m.direction === "out" && m.type === 3 && m.messageId === boot.messageId)).toBe(true);
    expect(all.some((m) => m.direction === "out" && m.type === 2 && m.action === "TriggerMessage")).toBe(true);

    const csv = await http.get("/api/v0/stations/S16/messages?limit=20&format=csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toBe("id,at,direction,type,action,messageId,errorCode,payload");
    expect(lines.length).toBe(21);
    expect((await http.get("/api/v0/stations/S16/messages?format=xml")).status).toBe(400);
    expect((await http.get("/api/v0/stations/NOPE/messages")).status).toBe(404);
  });
});

describe("tokens", () => {
  it("creates, lists, updates and deletes tokens", async () => {
    const created = await http.post("/api/v0/tokens", { idTag: "CRUD-1", note: "fleet card", expiresAt: "2030-01-01T00:00:00Z" });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ idTag: "CRUD-1", status: "Accepted", note: "fleet card", expiresAt: "2030-01-01T00:00:00.000Z" });
    expect((await http.post("/api/v0/tokens", { idTag: "CRUD-1" })).status).toBe(409);
    expect((await http.post("/api/v0/tokens", { idTag: "" })).status).toBe(400);
    expect((await http.post("/api/v0/tokens", { idTag: "X", status: "Maybe" })).status).toBe(400);
    const list = await http.get("/api/v0/tokens?q=crud");
    expect(list.json).toMatchObject({ total: 1, items: [{ idTag: "CRUD-1" }] });
    const patched = await http.request("PATCH", "/api/v0/tokens/CRUD-1", { status: "Blocked", note: null });
    expect(patched.json).toMatchObject({ status: "Blocked", note: null });
    expect((await http.request("PATCH", "/api/v0/tokens/CRUD-1", {})).status).toBe(400);
    expect((await http.request("PATCH", "/api/v0/tokens/NOPE", { status: "Blocked" })).status).toBe(404);
    expect((await http.request("DELETE", "/api/v0/tokens/CRUD-1")).status).toBe(204);
    expect((await http.request("DELETE", "/api/v0/tokens/CRUD-1")).status).toBe(404);
    const paged = await http.get("/api/v0/tokens?limit=1");
    expect(paged.json.items).toHaveLength(1);
    expect(paged.json.nextCursor).toEqual(expect.any(String));
  });

  it("needs the bearer token everywhere under /api/v0", async () => {
    for (const path of ["/api/v0/stations", "/api/v0/stations/snapshot", "/api/v0/transactions", "/api/v0/tokens", "/api/v0/stations/S16"]) {
      expect((await fetch(`${manager.url}${path}`)).status, path).toBe(401);
    }
    expect((await fetch(`${manager.url}/health`)).status).toBe(200);
  });
});

describe("command mapping", () => {
  it("maps neutral actions per version", () => {
    expect(mapCommand("ocpp1.6", "reset", { type: "hard" })).toEqual({ action: "Reset", request: { type: "Hard" } });
    expect(mapCommand("ocpp2.0.1", "reset", { type: "soft" })).toEqual({ action: "Reset", request: { type: "OnIdle" } });
    expect(mapCommand("ocpp2.0.1", "unlockConnector", { connectorId: 2 })).toEqual({ action: "UnlockConnector", request: { evseId: 2, connectorId: 1 } });
    expect(mapCommand("ocpp1.6", "changeAvailability", { available: false })).toEqual({ action: "ChangeAvailability", request: { connectorId: 0, type: "Inoperative" } });
    expect(mapCommand("ocpp2.0.1", "changeAvailability", { available: true })).toEqual({ action: "ChangeAvailability", request: { operationalStatus: "Operative" } });
    expect(mapCommand("ocpp2.0.1", "changeConfiguration", { key: "EVSE@1.2.AvailabilityState", value: "x" }).request).toEqual({
      setVariableData: [{ component: { name: "EVSE", evse: { id: 1, connectorId: 2 } }, variable: { name: "AvailabilityState" }, attributeValue: "x" }],
    });
    expect(() => mapCommand("ocpp1.6", "remoteStop", { transactionId: "abc" })).toThrow(/integers/);
  });
});
