import { describe, expect, it } from "vitest";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import { createCore } from "./core";
import { createHandlers16 } from "./handlers16";
import { createHandlers201 } from "./handlers201";
import { createStationContext } from "./station";
import type { Params } from "./types";
import type { Wire } from "./wire";

/**
 * The command handlers on their own: the real station parts on a fake wire that records
 * every CALL, answers from a table, and runs deferred side effects only when told to.
 * No socket, no gateway, no timers.
 */

type Sent = { action: string; params: Params };
type Answers = Record<string, (params: Params) => unknown>;

const fakeStation = (protocol: OcppVersion, answers: Answers = {}) => {
  const core = createCore({
    id: "T1",
    url: "ws://unused",
    protocol,
    connectors: 2,
    seed: 7,
    kind: "AC22",
    rebootDelayMs: [0, 0],
    scheduler: { add: () => () => {}, tickMs: 50, stop: () => {} },
  });
  core.link.connected = true;
  core.link.bootStatus = "Accepted";
  core.link.needBoot = false;
  const sent: Sent[] = [];
  const deferred: (() => unknown)[] = [];
  const reconnects: number[] = [];
  const send = async (action: string, params: Params) => {
    sent.push({ action, params });
    return answers[action]?.(params);
  };
  const wire = {
    client: {
      on: () => {},
      handle: () => {},
      close: async () => {},
      connect: async () => void reconnects.push(Date.now()),
    },
    sleep: async () => {},
    wakeSleepers: () => {},
    canSend: () => core.link.connected && core.link.bootStatus === "Accepted",
    call: send,
    txCall: send,
    txQueue: { flush: async () => {}, size: () => 0, sentLater: () => 0 },
    later: (fn: () => unknown) => void deferred.push(fn),
  } as unknown as Wire;
  const ctx = createStationContext(core, wire);
  const handlers = protocol === "ocpp1.6" ? createHandlers16(ctx) : createHandlers201(ctx);
  /** Runs the deferred side effects (and the ones they defer) until none are left. */
  const settle = async () => {
    while (deferred.length) await deferred.shift()!();
  };
  const command = async (action: string, params: Params = {}) => {
    const handler = handlers[action];
    if (!handler) throw new Error(`no handler for ${action}`);
    return handler(params);
  };
  const actions = () => sent.map((s) => s.action);
  const last = (action: string) => sent.filter((s) => s.action === action).at(-1)?.params;
  return { ctx, sent, command, settle, actions, last, reconnects };
};

const accepted16: Answers = {
  Authorize: () => ({ idTagInfo: { status: "Accepted" } }),
  StartTransaction: () => ({ transactionId: 42, idTagInfo: { status: "Accepted" } }),
};
const accepted201: Answers = {
  Authorize: () => ({ idTokenInfo: { status: "Accepted" } }),
  TransactionEvent: () => ({}),
};

describe("OCPP 1.6 handlers", () => {
  it("starts a remote transaction on a free connector and stops it by its CSMS id", async () => {
    const s = fakeStation("ocpp1.6", accepted16);
    expect(await s.command("RemoteStartTransaction", { idTag: "TAG1", connectorId: 2 })).toEqual({ status: "Accepted" });
    await s.settle();
    // AuthorizeRemoteTxRequests is false: no Authorize before a remote start.
    expect(s.actions()).not.toContain("Authorize");
    expect(s.last("StartTransaction")).toMatchObject({ connectorId: 2, idTag: "TAG1" });
    expect(s.ctx.connectors[1].tx).toMatchObject({ remoteId: 42, active: true });

    expect(await s.command("RemoteStopTransaction", { transactionId: 41 })).toEqual({ status: "Rejected" });
    expect(await s.command("RemoteStopTransaction", { transactionId: 42 })).toEqual({ status: "Accepted" });
    await s.settle();
    expect(s.last("StopTransaction")).toMatchObject({ transactionId: 42, idTag: "TAG1", reason: "Remote" });
    expect(s.ctx.connectors[1].tx).toBeUndefined();
  });

  it("refuses a remote start before the boot is accepted, or with a non-TxProfile", async () => {
    const s = fakeStation("ocpp1.6", accepted16);
    const profile = { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: "TxDefaultProfile", chargingProfileKind: "Absolute", chargingSchedule: { chargingRateUnit: "W", chargingSchedulePeriod: [{ startPeriod: 0, limit: 3000 }] } };
    expect(await s.command("RemoteStartTransaction", { idTag: "TAG1", chargingProfile: profile })).toEqual({ status: "Rejected" });
    s.ctx.link.bootStatus = "Pending";
    expect(await s.command("RemoteStartTransaction", { idTag: "TAG1" })).toEqual({ status: "Rejected" });
    await s.settle();
    expect(s.actions()).toEqual([]);
  });

  it("triggers messages per connector and refuses an unknown one", async () => {
    const s = fakeStation("ocpp1.6");
    expect(await s.command("TriggerMessage", { requestedMessage: "StatusNotification", connectorId: 9 })).toEqual({ status: "Rejected" });
    expect(await s.command("TriggerMessage", { requestedMessage: "StatusNotification" })).toEqual({ status: "Accepted" });
    expect(await s.command("TriggerMessage", { requestedMessage: "DiagnosticsStatusNotification" })).toEqual({ status: "Accepted" });
    expect(await s.command("TriggerMessage", { requestedMessage: "Heartbeat" })).toEqual({ status: "Accepted" });
    await s.settle();
    expect(s.sent.filter((m) => m.action === "StatusNotification").map((m) => m.params.connectorId)).toEqual([0, 1, 2]);
    expect(s.actions()).toContain("DiagnosticsStatusNotification");
    expect(s.actions()).toContain("Heartbeat");
  });

  it("reads and changes configuration, refusing unknown, read-only and invalid values", async () => {
    const s = fakeStation("ocpp1.6");
    expect(await s.command("ChangeConfiguration", { key: "NoSuchKey", value: "1" })).toEqual({ status: "NotSupported" });
    expect(await s.command("ChangeConfiguration", { key: "HeartbeatInterval", value: "soon" })).toEqual({ status: "Rejected" });
    expect(await s.command("ChangeConfiguration", { key: "HeartbeatInterval", value: "60" })).toEqual({ status: "Accepted" });
    expect(s.ctx.link.heartbeatIntervalS).toBe(60);
    const res = (await s.command("GetConfiguration", { key: ["HeartbeatInterval", "Nope"] })) as { configurationKey: { key: string; value: string }[]; unknownKey: string[] };
    expect(res.configurationKey).toEqual([expect.objectContaining({ key: "HeartbeatInterval", value: "60" })]);
    expect(res.unknownKey).toEqual(["Nope"]);
  });

  it("applies and clears charging profiles", async () => {
    const s = fakeStation("ocpp1.6");
    const profile = (purpose: string, limit: number) => ({
      chargingProfileId: 1,
      stackLevel: 0,
      chargingProfilePurpose: purpose,
      chargingProfileKind: "Absolute",
      chargingSchedule: { chargingRateUnit: "W", chargingSchedulePeriod: [{ startPeriod: 0, limit }] },
    });
    expect(await s.command("SetChargingProfile", { connectorId: 1, csChargingProfiles: profile("TxDefaultProfile", 4000) })).toEqual({ status: "Accepted" });
    expect(s.ctx.limitFor(s.ctx.connectors[0])).toBe(4000);
    // A TxProfile needs a running transaction.
    expect(await s.command("SetChargingProfile", { connectorId: 1, csChargingProfiles: profile("TxProfile", 2000) })).toEqual({ status: "Rejected" });
    expect(await s.command("SetChargingProfile", { connectorId: 0, csChargingProfiles: profile("ChargePointMaxProfile", 3000) })).toEqual({ status: "Accepted" });
    expect(s.ctx.limitFor(s.ctx.connectors[1])).toBe(3000);
    expect(await s.command("ClearChargingProfile", {})).toEqual({ status: "Accepted" });
    expect(await s.command("ClearChargingProfile", {})).toEqual({ status: "Unknown" });
  });

  it("schedules an availability change during a transaction and applies it when the transaction ends", async () => {
    const s = fakeStation("ocpp1.6", accepted16);
    await s.command("RemoteStartTransaction", { idTag: "TAG1", connectorId: 1 });
    await s.settle();
    expect(await s.command("ChangeAvailability", { connectorId: 1, type: "Inoperative" })).toEqual({ status: "Scheduled" });
    expect(await s.command("ChangeAvailability", { connectorId: 2, type: "Inoperative" })).toEqual({ status: "Accepted" });
    expect(await s.command("ChangeAvailability", { connectorId: 3, type: "Inoperative" })).toEqual({ status: "Rejected" });
    await s.command("RemoteStopTransaction", { transactionId: 42 });
    await s.settle();
    expect(s.ctx.connectors.map((c) => c.operative)).toEqual([false, false]);
    expect(s.last("StatusNotification")).toMatchObject({ status: "Unavailable" });
  });

  it("reboots on Reset: stops the transaction, goes Unavailable and connects again", async () => {
    const s = fakeStation("ocpp1.6", accepted16);
    await s.command("RemoteStartTransaction", { idTag: "TAG1", connectorId: 1 });
    await s.settle();
    expect(await s.command("Reset", { type: "Hard" })).toEqual({ status: "Accepted" });
    await s.settle();
    expect(s.last("StopTransaction")).toMatchObject({ reason: "HardReset" });
    expect(s.sent.filter((m) => m.action === "StatusNotification").slice(-3).map((m) => m.params.status)).toEqual(["Unavailable", "Unavailable", "Unavailable"]);
    expect(s.ctx.link.needBoot).toBe(true);
    expect(s.reconnects).toHaveLength(1);
  });
});

describe("OCPP 2.0.1 handlers", () => {
  it("starts a remote transaction with its remoteStartId and stops it by the station's id", async () => {
    const s = fakeStation("ocpp2.0.1", accepted201);
    const res = await s.command("RequestStartTransaction", { idToken: { idToken: "TOK1", type: "ISO14443" }, remoteStartId: 5, evseId: 1 });
    expect(res).toEqual({ status: "Accepted" });
    await s.settle();
    const started = s.last("TransactionEvent") as { eventType: string; triggerReason: string; transactionInfo: { transactionId: string; remoteStartId: number } };
    expect(started).toMatchObject({ eventType: "Started", triggerReason: "RemoteStart", transactionInfo: { remoteStartId: 5 } });
    const txId = started.transactionInfo.transactionId;

    expect(await s.command("GetTransactionStatus", { transactionId: txId })).toEqual({ ongoingIndicator: true, messagesInQueue: false });
    expect(await s.command("RequestStopTransaction", { transactionId: "nope" })).toMatchObject({ status: "Rejected", statusInfo: { reasonCode: "UnknownTxId" } });
    expect(await s.command("RequestStopTransaction", { transactionId: txId })).toEqual({ status: "Accepted" });
    await s.settle();
    expect(s.last("TransactionEvent")).toMatchObject({ eventType: "Ended", transactionInfo: { transactionId: txId, stoppedReason: "Remote" } });
  });

  it("says why it refuses a remote start", async () => {
    const s = fakeStation("ocpp2.0.1", accepted201);
    expect(await s.command("RequestStartTransaction", { idToken: { idToken: "T", type: "ISO14443" }, remoteStartId: 1, evseId: 9 })).toMatchObject({
      status: "Rejected",
      statusInfo: { reasonCode: "UnknownEvse" },
    });
    await s.command("RequestStartTransaction", { idToken: { idToken: "T", type: "ISO14443" }, remoteStartId: 2, evseId: 1 });
    await s.settle();
    expect(await s.command("RequestStartTransaction", { idToken: { idToken: "T", type: "ISO14443" }, remoteStartId: 3, evseId: 1 })).toMatchObject({
      statusInfo: { reasonCode: "TxInProgress" },
    });
  });

  it("triggers messages, refusing a boot when already accepted and a TransactionEvent without a transaction", async () => {
    const s = fakeStation("ocpp2.0.1");
    expect(await s.command("TriggerMessage", { requestedMessage: "BootNotification" })).toEqual({ status: "Rejected" });
    expect(await s.command("TriggerMessage", { requestedMessage: "TransactionEvent" })).toEqual({ status: "Rejected" });
    expect(await s.command("TriggerMessage", { requestedMessage: "StatusNotification", evse: { id: 7 } })).toEqual({ status: "Rejected" });
    expect(await s.command("TriggerMessage", { requestedMessage: "StatusNotification", evse: { id: 2 } })).toEqual({ status: "Accepted" });
    expect(await s.command("TriggerMessage", { requestedMessage: "LogStatusNotification" })).toEqual({ status: "Accepted" });
    expect(await s.command("TriggerMessage", { requestedMessage: "MeterValues" })).toEqual({ status: "Accepted" });
    await s.settle();
    expect(s.sent.filter((m) => m.action === "StatusNotification").map((m) => m.params.evseId)).toEqual([2]);
    expect(s.sent.filter((m) => m.action === "MeterValues").map((m) => m.params.evseId)).toEqual([1, 2]);
    expect(s.actions()).toContain("LogStatusNotification");
  });

  it("gets and sets variables with a status per item", async () => {
    const s = fakeStation("ocpp2.0.1");
    const got = (await s.command("GetVariables", {
      getVariableData: [
        { component: { name: "OCPPCommCtrlr" }, variable: { name: "HeartbeatInterval" } },
        { component: { name: "NoSuchCtrlr" }, variable: { name: "X" } },
        { component: { name: "OCPPCommCtrlr" }, variable: { name: "NoSuchVariable" } },
        { component: { name: "OCPPCommCtrlr" }, variable: { name: "HeartbeatInterval" }, attributeType: "Target" },
      ],
    })) as { getVariableResult: { attributeStatus: string; attributeValue?: string }[] };
    expect(got.getVariableResult.map((r) => r.attributeStatus)).toEqual(["Accepted", "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"]);
    expect(got.getVariableResult[0].attributeValue).toBe("300");

    const set = (await s.command("SetVariables", {
      setVariableData: [
        { component: { name: "OCPPCommCtrlr" }, variable: { name: "HeartbeatInterval" }, attributeValue: "45" },
        { component: { name: "OCPPCommCtrlr" }, variable: { name: "HeartbeatInterval" }, attributeValue: "often" },
        { component: { name: "NoSuchCtrlr" }, variable: { name: "X" }, attributeValue: "1" },
      ],
    })) as { setVariableResult: { attributeStatus: string }[] };
    expect(set.setVariableResult.map((r) => r.attributeStatus)).toEqual(["Accepted", "Rejected", "UnknownComponent"]);
    expect(s.ctx.link.heartbeatIntervalS).toBe(45);
  });

  it("schedules an OnIdle reset while charging and resets when the transaction ends", async () => {
    const s = fakeStation("ocpp2.0.1", accepted201);
    await s.command("RequestStartTransaction", { idToken: { idToken: "T", type: "ISO14443" }, remoteStartId: 1, evseId: 1 });
    await s.settle();
    expect(await s.command("Reset", { type: "OnIdle", evseId: 5 })).toMatchObject({ status: "Rejected", statusInfo: { reasonCode: "UnknownEvse" } });
    expect(await s.command("Reset", { type: "OnIdle" })).toEqual({ status: "Scheduled" });
    expect(s.reconnects).toHaveLength(0);
    const txId = s.ctx.connectors[0].tx!.localId;
    await s.command("RequestStopTransaction", { transactionId: txId });
    await s.settle();
    expect(s.reconnects).toHaveLength(1);
    expect(s.ctx.link.bootReason).toBe("RemoteReset");
  });

  it("refuses to unlock a connector with a running transaction", async () => {
    const s = fakeStation("ocpp2.0.1", accepted201);
    await s.command("RequestStartTransaction", { idToken: { idToken: "T", type: "ISO14443" }, remoteStartId: 1, evseId: 1 });
    await s.settle();
    expect(await s.command("UnlockConnector", { evseId: 1, connectorId: 1 })).toMatchObject({ status: "OngoingAuthorizedTransaction" });
    expect(await s.command("UnlockConnector", { evseId: 1, connectorId: 2 })).toEqual({ status: "UnknownConnector" });
    expect(await s.command("UnlockConnector", { evseId: 2, connectorId: 1 })).toEqual({ status: "Unlocked" });
  });
});
