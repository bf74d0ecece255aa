import { afterEach, describe, expect, it } from "vitest";
import type { ActivationStep, Settlement, Trade } from "../../contracts/flex/entities";
import { startFlexFleet, type FlexFleet } from "../../sim/flex/fleet";
import { call, eventually, startHarness, TEST_TIMING, windowAhead } from "./testkit";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

const P = TEST_TIMING.periodMs;

describe("flex node: offers → bundles → trades → signed activations → settlement", () => {
  it("runs a DSO request end to end with simulated devices", async () => {
    const h = await startHarness({ nodes: [{ nodeId: "dso-n", role: "DSO", gridNodes: ["gn-a", "gn-b"], trader: "dso-north" }] });
    closers.push(h.close);
    const n = h.node("dso-n");
    const fleet: FlexFleet = await startFlexFleet({ nodeUrl: n.node.url, token: n.fspToken, mqttUrl: h.mqttUrl, devices: 6, reviseEveryMs: 60_000, telemetryEveryMs: 200, tickMs: 100 });
    closers.push(fleet.close);
    await eventually(() => n.node.health().offersOpen >= 6, "offers in the book");

    const { periodFrom, periodTo } = windowAhead(P, 2);
    const created = await call(n.node, n.traderToken, "POST", "/requests", { buyerId: "dso-north", gridNodeId: "gn-a", direction: "up", periodFrom, periodTo, quantityW: 2000, maxUnitPrice: 1000 });
    expect(created.status).toBe(201);
    expect(created.body.revision).toBe(1);
    const revised = await call(n.node, n.traderToken, "PATCH", `/requests/${created.body.id}`, { quantityW: 3000, revision: 1 });
    expect(revised.status).toBe(200);
    expect(revised.body.revision).toBe(2);
    expect((revised.body.revisions as unknown[]).length).toBe(2);

    // Depth and bundles form every round, without device identities for traders.
    await eventually(async () => ((await call(n.node, n.traderToken, "GET", "/orderbook?gridNode=gn-a&direction=up")).body.depth as unknown[]).length > 0, "order book depth");
    const bundles = await call(n.node, n.traderToken, "GET", "/bundles");
    expect((bundles.body.bundles as { offerIds?: unknown }[]).every((b) => b.offerIds === undefined)).toBe(true);

    let trade: Trade | undefined;
    await eventually(async () => {
      trade = ((await call(n.node, n.traderToken, "GET", "/trades")).body.trades as Trade[])[0];
      return !!trade;
    }, "a trade at window sealing", 15_000);
    expect(trade!.quantityW).toBe(3000);
    expect(trade!.buyerId).toBe("dso-north");

    const signal = await call(n.node, n.traderToken, "POST", "/activation-signals", { tradeId: trade!.id, setpointW: 1500 });
    expect(signal.status).toBe(202);
    // Devices verify the node's signature and follow.
    await eventually(() => fleet.devices.some((d) => d.setpoint() !== null), "a device following a setpoint");
    await eventually(async () => {
      const steps = (await call(n.node, n.traderToken, "GET", `/activations?tradeId=${encodeURIComponent(trade!.id)}`)).body.steps as ActivationStep[];
      return steps.some((s) => s.closed && s.acked > 0 && s.requestedW === 1500);
    }, "acked activation steps");
    expect(fleet.devices.every((d) => Object.keys(d.stats.refused).length === 0)).toBe(true);

    let settlement: Settlement | undefined;
    await eventually(async () => {
      settlement = ((await call(n.node, n.traderToken, "GET", "/settlements")).body.settlements as Settlement[])[0];
      return !!settlement;
    }, "a settlement after the period", 15_000);
    expect(settlement!.tradeId).toBe(trade!.id);
    expect(settlement!.orderedW).toBeGreaterThan(0);
    expect(settlement!.net).toBeCloseTo(settlement!.payment - settlement!.penalty, 2);
  });
});
