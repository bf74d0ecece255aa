import { describe, expect, it, vi } from "vitest";
import { GATEWAY_ERROR } from "../../../contracts/csms/mqtt";
import { fakeGateway, fakeSession } from "./fake-context";
import { listenToManager } from "./manager-calls";

/** manager-calls.ts on its own: MQTT messages delivered by hand, answers read from the fake link. */

const setup = (overrides: Parameters<typeof fakeGateway>[0] = {}) => {
  const gw = fakeGateway(overrides);
  const presence: unknown[][] = [];
  listenToManager(gw.ctx, gw.link, (...args) => void presence.push(args));
  const deliver = (topic: string, body: unknown, retain = false) =>
    gw.mqtt.emit("message", topic, Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), { retain });
  return { ...gw, presence, deliver, out: gw.ctx.topics.out("ocpp1.6", "S1"), in: gw.ctx.topics.in("ocpp1.6", "S1") };
};

const call = { type: 2, action: "Reset", id: "c1", request: { type: "Soft" } };

describe("manager → gateway MQTT messages", () => {
  it("ignores malformed JSON, envelopes that break the contract and oversized payloads, counting each", async () => {
    const s = setup({ maxFrameBytes: 100 });
    fakeSession(s.ctx);
    s.deliver(s.out, "{not json");
    s.deliver(s.out, { type: 2, action: "Re set", id: "c1", request: {} });
    s.deliver(s.out, { type: 3, id: "x".repeat(37), response: {} });
    s.deliver(s.out, { ...call, request: { pad: "x".repeat(400) } });
    expect(s.published).toEqual([]);
    expect(await s.metric("csms_gateway_bad_mqtt_payloads_total", { reason: "json" })).toBe(1);
    expect(await s.metric("csms_gateway_bad_mqtt_payloads_total", { reason: "schema" })).toBe(3);
  });

  it("ignores topics that are not a station's out topic, and hands presence on", () => {
    const s = setup();
    s.deliver("cs/in/ocpp1.6/S1", call);
    s.deliver("cs/out/ocpp9/S1", call);
    s.deliver("other/out/ocpp1.6/S1", call);
    expect(s.published).toEqual([]);
    s.deliver("cs/presence/S1", { online: true }, true);
    expect(s.presence).toEqual([["S1", Buffer.from(JSON.stringify({ online: true })), true]]);
  });

  it("answers StationOffline for a station not connected here, and ProtocolMismatch for the wrong version", async () => {
    const s = setup();
    s.deliver(s.out, call);
    expect(s.published).toEqual([
      { topic: s.in, body: expect.objectContaining({ type: 4, action: "Reset", id: "c1", request: call.request, error_code: GATEWAY_ERROR.stationOffline }) },
    ]);
    fakeSession(s.ctx, { protocol: "ocpp2.0.1" });
    s.deliver(s.out, call);
    expect(s.published[1]).toEqual({ topic: s.in, body: expect.objectContaining({ type: 4, id: "c1", error_code: GATEWAY_ERROR.protocolMismatch }) });
    expect(await s.metric("csms_gateway_station_offline_total")).toBe(1);
  });

  it("relays a CALL to the station and publishes its CALLRESULT or CALLERROR with the call's action and request", async () => {
    const s = setup();
    const calls: unknown[][] = [];
    fakeSession(s.ctx, {
      call: async (...args) => {
        calls.push(args);
        if (args[0] === "Reset") return { status: "Accepted" };
        throw Object.assign(new Error("not here"), { rpcErrorCode: "NotImplemented" });
      },
    });
    s.deliver(s.out, call);
    s.deliver(s.out, { type: 2, action: "DataTransfer", id: "c2", request: { vendorId: "x" } });
    await vi.waitFor(() => expect(s.published).toHaveLength(2));
    expect(calls.map((c) => c.slice(0, 2))).toEqual([
      ["Reset", { type: "Soft" }],
      ["DataTransfer", { vendorId: "x" }],
    ]);
    expect(s.published).toEqual([
      { topic: s.in, body: { type: 3, action: "Reset", id: "c1", request: { type: "Soft" }, response: { status: "Accepted" } } },
      { topic: s.in, body: { type: 4, action: "DataTransfer", id: "c2", request: { vendorId: "x" }, error_code: "NotImplemented", error_description: "not here" } },
    ]);
    expect(s.ctx.stations.get("S1")!.session!.managerCalls).toBe(0);
  });

  it("refuses a CALL beyond one in flight and maxQueuedCalls queued", async () => {
    const s = setup({ maxQueuedCalls: 1 });
    const { session } = fakeSession(s.ctx, { call: () => new Promise(() => {}) });
    s.deliver(s.out, { ...call, id: "c1" });
    s.deliver(s.out, { ...call, id: "c2" });
    expect(session.managerCalls).toBe(2);
    s.deliver(s.out, { ...call, id: "c3" });
    expect(s.published).toEqual([{ topic: s.in, body: expect.objectContaining({ type: 4, id: "c3", error_code: GATEWAY_ERROR.queueFull }) }]);
    expect(await s.metric("csms_gateway_queue_full_total")).toBe(1);
  });

  it("matches the manager's answer to the pending station CALL by id, counting one that matches none", async () => {
    const s = setup();
    const { session } = fakeSession(s.ctx);
    const answers: unknown[] = [];
    session.pending.set("m1", { action: "Heartbeat", resolve: (r) => void answers.push(r), reject: (e) => void answers.push(e) });
    session.pending.set("m2", { action: "Authorize", resolve: (r) => void answers.push(r), reject: (e) => void answers.push(e) });
    s.deliver(s.out, { type: 3, id: "m1", response: { currentTime: "2026-12-01T00:00:00.000Z" } });
    s.deliver(s.out, { type: 4, id: "m2", error_code: "SecurityError", error_description: "no" });
    s.deliver(s.out, { type: 3, id: "m3", response: {} });
    expect(answers[0]).toEqual({ currentTime: "2026-12-01T00:00:00.000Z" });
    expect(answers[1]).toMatchObject({ rpcErrorCode: "SecurityError", message: "no" });
    expect(await s.metric("csms_gateway_bad_mqtt_payloads_total", { reason: "unknown_id" })).toBe(1);
  });
});
