import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64Sha256, passwordMatches, type Authenticate } from "../../services/csms/gateway/auth";
import { startGateway, type Gateway } from "../../services/csms/gateway/gateway";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import { eventually, startTestBroker, startTestManager, type Recorded, type TestManager } from "../../services/csms/testkit";
import { startFleet } from "./fleet";
import { advanceCharging, CHARGERS, randomEv, taperFactor } from "./physics";
import { createRng } from "./rng";
import { startStationSim, type StationSim } from "./station";

const PASSWORD = "sim-test-password";
const authenticate: Authenticate = async (_id, password, { usernameMatches }) =>
  passwordMatches({ securityProfile: 0, base64SHA256Password: base64Sha256(PASSWORD) }, password, usernameMatches);

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let gw: Gateway;
let manager: TestManager;

beforeAll(async () => {
  broker = await startTestBroker();
  gw = await startGateway({ port: 0, mqttUrl: broker.url, authenticate });
  manager = await startTestManager({ mqttUrl: broker.url, heartbeatInterval: 1 });
});

afterAll(async () => {
  await gw?.close();
  await manager?.close();
  await broker?.close();
});

type Call = Recorded & { envelope: { type: 2; action: string; request: Record<string, unknown> } };
const isCall = (m: Recorded, id: string, action: string): m is Call => m.direction === "in" && m.stationId === id && m.envelope.type === 2 && m.envelope.action === action;
/** The next station CALL after message index `mark` that matches. */
const next = (mark: number, id: string, action: string, accept: (request: Record<string, unknown>) => boolean = () => true) =>
  manager.waitFor((m) => manager.messages.indexOf(m) >= mark && isCall(m, id, action) && accept(m.envelope.request), `${action} from ${id}`) as Promise<Call>;

/** A connector's status in the station's vocabulary, from a StatusNotification request. */
const statusOf = (protocol: OcppVersion, r: Record<string, unknown>) =>
  protocol === "ocpp1.6" ? { connector: r.connectorId as number, status: r.status as string } : { connector: r.evseId as number, status: r.connectorStatus as string };
const nextStatus = (mark: number, id: string, protocol: OcppVersion, connector: number, status: string) =>
  next(mark, id, "StatusNotification", (r) => {
    const s = statusOf(protocol, r);
    return s.connector === connector && s.status === status;
  });

type Sample = { energyWh: number; powerW: number; socPct?: number };
/** Readings from a MeterValues or TransactionEvent request. */
const samples = (request: Record<string, unknown>): Sample[] =>
  ((request.meterValue as { sampledValue: { value: string | number; measurand?: string }[] }[] | undefined) ?? []).map((mv) => {
    const get = (m: string) => {
      const v = mv.sampledValue.find((s) => s.measurand === m)?.value;
      return v === undefined ? undefined : Number(v);
    };
    return { energyWh: get("Energy.Active.Import.Register")!, powerW: get("Power.Active.Import") ?? 0, socPct: get("SoC") };
  });

describe("charging physics", () => {
  it("integrates power into energy, tapers above 80 % and never passes 100 % SoC", () => {
    const rng = createRng(42);
    const ev = randomEv(rng, { socPct: 70, batteryWh: 40_000, maxAcW: 22_000 });
    const flow = { powerW: 0, energyWh: 1000 };
    let lastE = flow.energyWh;
    let lastSoc = ev.socPct;
    let peak = 0;
    for (let i = 0; i < 600; i++) {
      advanceCharging({ flow, ev, charger: CHARGERS.AC22, limitW: 22_000, dtS: 10 });
      expect(flow.energyWh).toBeGreaterThanOrEqual(lastE);
      expect(ev.socPct).toBeGreaterThanOrEqual(lastSoc);
      expect(ev.socPct).toBeLessThanOrEqual(100);
      if (ev.socPct < 80) peak = Math.max(peak, flow.powerW);
      lastE = flow.energyWh;
      lastSoc = ev.socPct;
    }
    expect(peak).toBeCloseTo(22_000, 0);
    expect(ev.socPct).toBe(100);
    expect(flow.powerW).toBe(0);
    expect(taperFactor(90)).toBeLessThan(1);
  });

  it("respects a smart-charging limit", () => {
    const ev = randomEv(createRng(1), { socPct: 20 });
    const flow = { powerW: 0, energyWh: 0 };
    advanceCharging({ flow, ev, charger: CHARGERS.DC50, limitW: 10_000, dtS: 60 });
    expect(flow.powerW).toBeCloseTo(10_000, 0);
  });
});

describe.each(["ocpp1.6", "ocpp2.0.1"] as const)("simulated %s station", (protocol) => {
  const v16 = protocol === "ocpp1.6";
  const id = v16 ? "SIM16" : "SIM201";
  let sim: StationSim;

  beforeAll(async () => {
    sim = await startStationSim({
      id,
      url: gw.url,
      password: PASSWORD,
      protocol,
      connectors: 2,
      seed: 7,
      speed: 60,
      kind: "AC22",
      behaviour: "idle",
      meterIntervalMs: 200,
      rebootDelayMs: [200, 400],
    });
    await sim.waitForBoot();
  });

  afterAll(async () => {
    // Every message the station sent or accepted passed strict schema validation.
    expect(sim.state().stats.validationFailures).toBe(0);
    await sim.close();
  });

  it("boots, reports every connector Available and sends heartbeats", async () => {
    const boot = await next(0, id, "BootNotification");
    expect(boot.topic).toBe(`cs/in/${protocol}/${id}`);
    for (const connector of v16 ? [0, 1, 2] : [1, 2]) await nextStatus(0, id, protocol, connector, "Available");
    await next(0, id, "Heartbeat");
    expect(sim.state()).toMatchObject({ connected: true, bootStatus: "Accepted", heartbeatIntervalS: 1 });
  });

  it("runs a transaction with rising energy and SoC, then stops it on unplug", async () => {
    const mark = manager.messages.length;
    await sim.plugIn(1, { idTag: "TAG1", ev: { socPct: 50, batteryWh: 60_000 } });
    await next(mark, id, "Authorize");
    const started = v16 ? await next(mark, id, "StartTransaction") : await next(mark, id, "TransactionEvent", (r) => r.eventType === "Started");
    if (v16) expect(started.envelope.request).toMatchObject({ connectorId: 1, idTag: "TAG1", meterStart: expect.any(Number) });
    else expect(started.envelope.request).toMatchObject({ triggerReason: "Authorized", evse: { id: 1, connectorId: 1 }, idToken: { idToken: "TAG1" } });
    await nextStatus(mark, id, protocol, 1, v16 ? "Charging" : "Occupied");

    const meterAction = v16 ? "MeterValues" : "TransactionEvent";
    const meterFilter = (r: Record<string, unknown>) => v16 || r.eventType === "Updated";
    await eventually(() => manager.messages.slice(mark).filter((m) => isCall(m, id, meterAction) && meterFilter(m.envelope.request)).length >= 6, "six meter samples");
    const series = manager.messages
      .slice(mark)
      .filter((m): m is Call => isCall(m, id, meterAction) && meterFilter(m.envelope.request))
      .flatMap((m) => samples(m.envelope.request));
    for (let i = 1; i < series.length; i++) {
      expect(series[i].energyWh).toBeGreaterThanOrEqual(series[i - 1].energyWh);
      expect(series[i].socPct!).toBeGreaterThanOrEqual(series[i - 1].socPct!);
    }
    expect(series.at(-1)!.energyWh).toBeGreaterThan(series[0].energyWh);
    expect(series.every((s) => s.socPct !== undefined && s.socPct <= 100)).toBe(true);
    expect(Math.max(...series.map((s) => s.powerW))).toBeGreaterThan(0);
    expect(Math.max(...series.map((s) => s.powerW))).toBeLessThanOrEqual(22_000);

    const stopMark = manager.messages.length;
    await sim.unplug(1);
    const stopped = v16 ? await next(stopMark, id, "StopTransaction") : await next(stopMark, id, "TransactionEvent", (r) => r.eventType === "Ended");
    if (v16) {
      expect(stopped.envelope.request).toMatchObject({ reason: "EVDisconnected" });
      expect(stopped.envelope.request.meterStop as number).toBeGreaterThan(started.envelope.request.meterStart as number);
    } else {
      expect(stopped.envelope.request).toMatchObject({ transactionInfo: { stoppedReason: "EVDisconnected" } });
      expect(samples(stopped.envelope.request)[0].energyWh).toBeGreaterThan(samples(started.envelope.request)[0].energyWh);
    }
    await nextStatus(stopMark, id, protocol, 1, "Available");
    expect(sim.state().connectors[0]).toMatchObject({ plugged: false, status: "Available" });
    expect(sim.state().connectors[0].transaction).toBeUndefined();
  });

  it("starts a transaction on RemoteStart and stops it on RemoteStop", async () => {
    const mark = manager.messages.length;
    const start = v16
      ? await manager.call(id, protocol, "RemoteStartTransaction", { connectorId: 2, idTag: "REMOTE1" })
      : await manager.call(id, protocol, "RequestStartTransaction", { evseId: 2, remoteStartId: 77, idToken: { idToken: "REMOTE1", type: "Central" } });
    expect(start).toMatchObject({ type: 3, response: { status: "Accepted" } });
    const started = v16 ? await next(mark, id, "StartTransaction") : await next(mark, id, "TransactionEvent", (r) => r.eventType === "Started");
    if (v16) expect(started.envelope.request).toMatchObject({ connectorId: 2, idTag: "REMOTE1" });
    else expect(started.envelope.request).toMatchObject({ triggerReason: "RemoteStart", transactionInfo: { remoteStartId: 77 }, evse: { id: 2 } });
    await nextStatus(mark, id, protocol, 2, v16 ? "Charging" : "Occupied");
    // No Authorize for a remote start (AuthorizeRemoteTxRequests / AuthorizeRemoteStart are false).
    expect(manager.messages.slice(mark).some((m) => isCall(m, id, "Authorize"))).toBe(false);

    // A second start on the busy connector is refused.
    const again = v16
      ? await manager.call(id, protocol, "RemoteStartTransaction", { connectorId: 2, idTag: "REMOTE2" })
      : await manager.call(id, protocol, "RequestStartTransaction", { evseId: 2, remoteStartId: 78, idToken: { idToken: "REMOTE2", type: "Central" } });
    expect(again).toMatchObject({ type: 3, response: { status: "Rejected" } });

    const txId = sim.state().connectors[1].transaction!.id;
    if (!v16) {
      expect(await manager.call(id, protocol, "GetTransactionStatus", { transactionId: txId })).toMatchObject({ response: { ongoingIndicator: true, messagesInQueue: false } });
    }
    const stopMark = manager.messages.length;
    const stop = v16
      ? await manager.call(id, protocol, "RemoteStopTransaction", { transactionId: Number(txId) })
      : await manager.call(id, protocol, "RequestStopTransaction", { transactionId: txId });
    expect(stop).toMatchObject({ type: 3, response: { status: "Accepted" } });
    const stopped = v16 ? await next(stopMark, id, "StopTransaction") : await next(stopMark, id, "TransactionEvent", (r) => r.eventType === "Ended");
    expect(stopped.envelope.request).toMatchObject(v16 ? { reason: "Remote" } : { transactionInfo: { stoppedReason: "Remote" }, triggerReason: "RemoteStop" });
    // 1.6 reports Finishing; in 2.0.1 the connector simply stays Occupied (no new notification).
    if (v16) await nextStatus(stopMark, id, protocol, 2, "Finishing");
    await eventually(() => !sim.state().connectors[1].transaction, "transaction ended");
    expect(sim.state().connectors[1]).toMatchObject({ plugged: true, status: v16 ? "Finishing" : "Occupied" });

    // The car is still plugged in; unlocking releases it.
    const unlockMark = manager.messages.length;
    const unlock = v16
      ? await manager.call(id, protocol, "UnlockConnector", { connectorId: 2 })
      : await manager.call(id, protocol, "UnlockConnector", { evseId: 2, connectorId: 1 });
    expect(unlock).toMatchObject({ response: { status: "Unlocked" } });
    await nextStatus(unlockMark, id, protocol, 2, "Available");
  });

  it("limits power with SetChargingProfile", async () => {
    const mark = manager.messages.length;
    await sim.plugIn(1, { ev: { socPct: 20 } });
    await nextStatus(mark, id, protocol, 1, v16 ? "Charging" : "Occupied");
    const profile = v16
      ? {
          connectorId: 0,
          csChargingProfiles: {
            chargingProfileId: 1,
            stackLevel: 0,
            chargingProfilePurpose: "ChargePointMaxProfile",
            chargingProfileKind: "Absolute",
            chargingSchedule: { chargingRateUnit: "W", chargingSchedulePeriod: [{ startPeriod: 0, limit: 3000 }] },
          },
        }
      : {
          evseId: 0,
          chargingProfile: {
            id: 1,
            stackLevel: 0,
            chargingProfilePurpose: "ChargingStationMaxProfile",
            chargingProfileKind: "Absolute",
            chargingSchedule: [{ id: 1, chargingRateUnit: "W", chargingSchedulePeriod: [{ startPeriod: 0, limit: 3000 }] }],
          },
        };
    expect(await manager.call(id, protocol, "SetChargingProfile", profile)).toMatchObject({ response: { status: "Accepted" } });
    await eventually(() => Math.abs(sim.state().connectors[0].powerW - 3000) < 1, "power settles at the 3 kW limit");
    expect(await manager.call(id, protocol, "ClearChargingProfile", {})).toMatchObject({ response: { status: "Accepted" } });
    const stopMark = manager.messages.length;
    await sim.unplug(1);
    await nextStatus(stopMark, id, protocol, 1, "Available");
  });

  it("changes availability per connector and for the whole station", async () => {
    const mark = manager.messages.length;
    const inoperative = v16 ? { connectorId: 2, type: "Inoperative" } : { operationalStatus: "Inoperative", evse: { id: 2 } };
    expect(await manager.call(id, protocol, "ChangeAvailability", inoperative)).toMatchObject({ response: { status: "Accepted" } });
    await nextStatus(mark, id, protocol, 2, "Unavailable");
    // An unavailable connector refuses a remote start.
    const refused = v16
      ? await manager.call(id, protocol, "RemoteStartTransaction", { connectorId: 2, idTag: "X" })
      : await manager.call(id, protocol, "RequestStartTransaction", { evseId: 2, remoteStartId: 9, idToken: { idToken: "X", type: "Central" } });
    expect(refused).toMatchObject({ response: { status: "Rejected" } });
    const operative = v16 ? { connectorId: 2, type: "Operative" } : { operationalStatus: "Operative", evse: { id: 2 } };
    expect(await manager.call(id, protocol, "ChangeAvailability", operative)).toMatchObject({ response: { status: "Accepted" } });
    await nextStatus(mark, id, protocol, 2, "Available");

    // A connector in a transaction schedules the change until the transaction ends.
    await sim.plugIn(1);
    await eventually(() => !!sim.state().connectors[0].transaction?.active, "transaction running");
    const scheduled = v16 ? { connectorId: 1, type: "Inoperative" } : { operationalStatus: "Inoperative", evse: { id: 1 } };
    expect(await manager.call(id, protocol, "ChangeAvailability", scheduled)).toMatchObject({ response: { status: "Scheduled" } });
    const endMark = manager.messages.length;
    await sim.unplug(1);
    await nextStatus(endMark, id, protocol, 1, "Unavailable");
    const back = v16 ? { connectorId: 0, type: "Operative" } : { operationalStatus: "Operative" };
    // The station as a whole was operative all along.
    expect(await manager.call(id, protocol, "ChangeAvailability", back)).toMatchObject({ response: { status: "Accepted" } });
    const again = v16 ? { connectorId: 1, type: "Operative" } : { operationalStatus: "Operative", evse: { id: 1 } };
    expect(await manager.call(id, protocol, "ChangeAvailability", again)).toMatchObject({ response: { status: "Accepted" } });
    await nextStatus(endMark, id, protocol, 1, "Available");
  });

  it("answers configuration reads and writes", async () => {
    if (v16) {
      const conf = await manager.call(id, protocol, "GetConfiguration", { key: ["HeartbeatInterval", "MeterValueSampleInterval", "Nope"] });
      expect(conf).toMatchObject({
        response: {
          configurationKey: [
            { key: "HeartbeatInterval", readonly: false, value: "1" },
            { key: "MeterValueSampleInterval", readonly: false, value: "10" },
          ],
          unknownKey: ["Nope"],
        },
      });
      expect(await manager.call(id, protocol, "ChangeConfiguration", { key: "MeterValueSampleInterval", value: "30" })).toMatchObject({ response: { status: "Accepted" } });
      expect(await manager.call(id, protocol, "ChangeConfiguration", { key: "MeterValueSampleInterval", value: "soon" })).toMatchObject({ response: { status: "Rejected" } });
      expect(await manager.call(id, protocol, "ChangeConfiguration", { key: "NumberOfConnectors", value: "9" })).toMatchObject({ response: { status: "Rejected" } });
      expect(await manager.call(id, protocol, "ChangeConfiguration", { key: "Unknown", value: "1" })).toMatchObject({ response: { status: "NotSupported" } });
      const all = await manager.call(id, protocol, "GetConfiguration", {});
      expect(all.type === 3 && (all.response.configurationKey as unknown[]).length).toBeGreaterThan(20);
    } else {
      const get = await manager.call(id, protocol, "GetVariables", {
        getVariableData: [
          { component: { name: "OCPPCommCtrlr" }, variable: { name: "HeartbeatInterval" } },
          { component: { name: "EVSE", evse: { id: 1 } }, variable: { name: "AvailabilityState" } },
          { component: { name: "Nope" }, variable: { name: "X" } },
          { component: { name: "TxCtrlr" }, variable: { name: "Nope" } },
        ],
      });
      expect(get).toMatchObject({
        response: {
          getVariableResult: [
            { attributeStatus: "Accepted", attributeValue: "1" },
            { attributeStatus: "Accepted", attributeValue: "Available" },
            { attributeStatus: "UnknownComponent" },
            { attributeStatus: "UnknownVariable" },
          ],
        },
      });
      const set = await manager.call(id, protocol, "SetVariables", {
        setVariableData: [
          { component: { name: "SampledDataCtrlr" }, variable: { name: "TxUpdatedInterval" }, attributeValue: "30" },
          { component: { name: "SampledDataCtrlr" }, variable: { name: "TxUpdatedInterval" }, attributeValue: "often" },
          { component: { name: "ChargingStation" }, variable: { name: "Model" }, attributeValue: "X" },
        ],
      });
      expect(set).toMatchObject({ response: { setVariableResult: [{ attributeStatus: "Accepted" }, { attributeStatus: "Rejected" }, { attributeStatus: "Rejected" }] } });
      const mark = manager.messages.length;
      expect(await manager.call(id, protocol, "GetBaseReport", { requestId: 5, reportBase: "FullInventory" })).toMatchObject({ response: { status: "Accepted" } });
      const last = await next(mark, id, "NotifyReport", (r) => r.requestId === 5 && r.tbc === false);
      const reports = manager.messages.slice(mark).filter((m): m is Call => isCall(m, id, "NotifyReport"));
      const items = reports.flatMap((m) => (m.envelope.request.reportData as unknown[]) ?? []);
      expect(items.length).toBeGreaterThan(30);
      expect(last.envelope.request.seqNo).toBe(reports.length - 1);
    }
    expect(await manager.call(id, protocol, "ClearCache", {})).toMatchObject({ response: { status: "Accepted" } });
  });

  it("sends what TriggerMessage asks for", async () => {
    const mark = manager.messages.length;
    const trigger = v16 ? { requestedMessage: "StatusNotification", connectorId: 1 } : { requestedMessage: "StatusNotification", evse: { id: 1, connectorId: 1 } };
    expect(await manager.call(id, protocol, "TriggerMessage", trigger)).toMatchObject({ response: { status: "Accepted" } });
    await nextStatus(mark, id, protocol, 1, "Available");
    expect(await manager.call(id, protocol, "TriggerMessage", { requestedMessage: "Heartbeat" })).toMatchObject({ response: { status: "Accepted" } });
    await next(mark, id, "Heartbeat");
    expect(await manager.call(id, protocol, "TriggerMessage", { requestedMessage: "MeterValues" })).toMatchObject({ response: { status: "Accepted" } });
    await next(mark, id, "MeterValues");
  });

  it("reports a fault and recovers", async () => {
    const mark = manager.messages.length;
    await sim.fault(2, { errorCode: "GroundFailure", durationMs: 300 });
    const faulted = await nextStatus(mark, id, protocol, 2, "Faulted");
    if (v16) expect(faulted.envelope.request).toMatchObject({ errorCode: "GroundFailure" });
    await nextStatus(mark, id, protocol, 2, "Available");
  });

  it("goes Unavailable on Reset, reconnects, boots again and comes back Available", async () => {
    const presence = await import("mqtt").then(({ connectAsync }) => connectAsync(broker.url, { reconnectPeriod: 0 }));
    const offline = new Promise<void>((resolve) => {
      presence.on("message", (_t, payload) => {
        if (payload.length && JSON.parse(payload.toString("utf8")).online === false) resolve();
      });
    });
    await presence.subscribeAsync(`cs/presence/${id}`);
    const mark = manager.messages.length;
    const bootsBefore = sim.state().stats.boots;
    const reset = await manager.call(id, protocol, "Reset", { type: v16 ? "Soft" : "Immediate" });
    expect(reset).toMatchObject({ type: 3, response: { status: "Accepted" } });
    for (const connector of v16 ? [0, 1, 2] : [1, 2]) await nextStatus(mark, id, protocol, connector, "Unavailable");
    await offline;
    await presence.endAsync(true);
    const boot = await next(mark, id, "BootNotification");
    if (!v16) expect(boot.envelope.request).toMatchObject({ reason: "RemoteReset" });
    const bootIndex = manager.messages.indexOf(boot);
    for (const connector of v16 ? [0, 1, 2] : [1, 2]) await nextStatus(bootIndex, id, protocol, connector, "Available");
    expect(sim.state().stats.boots).toBe(bootsBefore + 1);
    expect(sim.state()).toMatchObject({ connected: true, bootStatus: "Accepted" });
  });
});

describe("fleet", () => {
  it("starts a mix of 1.6 and 2.0.1 stations that all boot, and registers them when asked", async () => {
    const fleet = await startFleet({
      url: gw.url,
      stations: 4,
      ratio16: 0.5,
      passwordFor: () => PASSWORD,
      idPrefix: "FLT",
      behaviour: "idle",
      seed: 3,
      connectRatePerSec: 50,
      // Nothing listens there: registration must be skipped without failing the fleet.
      managerUrl: "http://127.0.0.1:9",
    });
    try {
      await fleet.ready;
      await eventually(() => fleet.stations.every((s) => s.state().bootStatus === "Accepted"), "all stations booted");
      const protocols = fleet.stations.map((s) => s.protocol).sort();
      expect(protocols).toEqual(["ocpp1.6", "ocpp1.6", "ocpp2.0.1", "ocpp2.0.1"]);
      expect(fleet.stations.map((s) => s.id)).toEqual(["FLT00001", "FLT00002", "FLT00003", "FLT00004"]);
      for (const s of fleet.stations) await next(0, s.id, "BootNotification");
      expect(fleet.summary()).toMatchObject({ stations: 4, connected: 4, booted: 4 });
    } finally {
      await fleet.close();
    }
  });
});
