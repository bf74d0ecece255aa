import { describe, expect, it } from "vitest";
import { accepted16, fakeStation } from "./fake-station";

/** demo.ts's clock on its own: ticks are called by hand with chosen times. */

describe("station clock", () => {
  it("sends a heartbeat when one is due and schedules the next", async () => {
    const s = fakeStation("ocpp1.6");
    s.ctx.link.nextHeartbeatAt = Date.now() + 1000;
    s.tick(Date.now());
    expect(s.actions()).toEqual([]);
    const t = Date.now() + 1000;
    s.tick(t);
    expect(s.actions()).toEqual(["Heartbeat"]);
    expect(s.ctx.link.nextHeartbeatAt).toBe(t + s.ctx.link.heartbeatIntervalS * 1000);
    // Not while offline.
    s.ctx.link.connected = false;
    s.tick(t + s.ctx.link.heartbeatIntervalS * 1000);
    expect(s.actions()).toEqual(["Heartbeat"]);
  });

  it("sends periodic meter values of a running transaction", async () => {
    const s = fakeStation("ocpp1.6", accepted16, { meterIntervalMs: 5000 });
    await s.command("RemoteStartTransaction", { idTag: "TAG1", connectorId: 1 });
    await s.settle();
    const tx = s.ctx.connectors[0].tx!;
    s.tick(tx.nextMeterAt - 1);
    expect(s.actions()).not.toContain("MeterValues");
    const due = tx.nextMeterAt;
    s.tick(due);
    await s.settle();
    expect(s.last("MeterValues")).toMatchObject({ connectorId: 1, transactionId: 42 });
    expect(tx.nextMeterAt).toBe(due + 5000);
  });

  it("clears a fault whose time is up", async () => {
    const s = fakeStation("ocpp2.0.1");
    await s.ctx.fault(s.ctx.connectors[1], { errorCode: "GroundFailure", durationMs: 1000 });
    expect(s.last("StatusNotification")).toMatchObject({ evseId: 2, connectorStatus: "Faulted" });
    s.tick(Date.now() + 1000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.ctx.connectors[1].faulted).toBeUndefined();
    expect(s.last("StatusNotification")).toMatchObject({ evseId: 2, connectorStatus: "Available" });
  });

  it("leaves idle stations alone and brings cars to demo stations", async () => {
    const later = Date.now() + 1e8;
    const idle = fakeStation("ocpp1.6", accepted16, { behaviour: "idle" });
    idle.tick(later);
    await idle.settle();
    expect(idle.ctx.connectors.some((c) => c.plugged)).toBe(false);

    const demo = fakeStation("ocpp1.6", accepted16, { behaviour: "demo" });
    // A long quiet spell: a car arrives at each connector (mean idle time 15 simulated minutes).
    demo.tick(later);
    await new Promise((resolve) => setImmediate(resolve));
    await demo.settle();
    expect(demo.ctx.connectors.every((c) => c.plugged)).toBe(true);
    expect(demo.actions()).toContain("StartTransaction");
  });
});
