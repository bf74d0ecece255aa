import { afterEach, describe, expect, it } from "vitest";
import type { ActivationStep, Trade } from "../../contracts/flex/entities";
import { call, eventually, startHarness, TEST_TIMING, windowAhead } from "../../services/flex/testkit";
import { startFlexFleet } from "../../sim/flex/fleet";
import { leanConnect } from "./lean-mqtt";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

// bench:flex (c) measures its devices through this client, so it must behave as a device
// does on the real broker: log in, keep to its ACL, post offers, verify and ack activations.
describe("bench:flex's lean MQTT client", () => {
  it("carries simulated devices through a whole market round on the node's closed broker", async () => {
    const h = await startHarness({ nodes: [{ nodeId: "dso-n", role: "DSO", gridNodes: ["gn-a"], trader: "dso-north" }] });
    closers.push(h.close);
    const n = h.node("dso-n");
    const fleet = await startFlexFleet({ nodeUrl: n.node.url, token: n.fspToken, mqttUrl: h.mqttUrl, devices: 4, reviseEveryMs: 60_000, telemetryEveryMs: 200, tickMs: 100, connect: leanConnect });
    closers.push(fleet.close);
    await eventually(() => n.node.health().devicesOnline === 4 && n.node.health().offersOpen >= 4, "devices online, offers in the book");

    const { periodFrom, periodTo } = windowAhead(TEST_TIMING.periodMs, 2);
    expect((await call(n.node, n.traderToken, "POST", "/requests", { buyerId: "dso-north", gridNodeId: "gn-a", direction: "up", periodFrom, periodTo, quantityW: 2000, maxUnitPrice: 1000 })).status).toBe(201);
    let trade: Trade | undefined;
    await eventually(async () => !!(trade = ((await call(n.node, n.traderToken, "GET", "/trades")).body.trades as Trade[])[0]), "a trade", 15_000);
    expect((await call(n.node, n.traderToken, "POST", "/activation-signals", { tradeId: trade!.id, setpointW: 1500 })).status).toBe(202);
    await eventually(async () => {
      const steps = (await call(n.node, n.traderToken, "GET", `/activations?tradeId=${encodeURIComponent(trade!.id)}`)).body.steps as ActivationStep[];
      return steps.some((s) => s.closed && s.acked > 0 && s.requestedW === 1500);
    }, "acked activation steps");
    expect(fleet.devices.every((d) => d.stats.acks > 0 || d.setpoint() === null)).toBe(true);
    expect(fleet.devices.every((d) => Object.keys(d.stats.refused).length === 0)).toBe(true);

    // The broker still confines it to its own topics.
    const refused = h.broker!.refused.publish;
    fleet.devices[0].mqtt()!.publish(`flex/v1/devices/${fleet.devices[1].id}/ack`, "{}", { qos: 0 });
    await eventually(() => h.broker!.refused.publish > refused, "a foreign topic refused");
  });
});
