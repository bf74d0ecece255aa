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

describe("flex node: bad input is refused with a reason, counted, and changes nothing else", () => {
  it("refuses hostile offers, topics, logins, activations, participants and floods", async () => {
    const { connectAsync } = await import("mqtt");
    const { importPrivateKey, generateNodeKeys } = await import("./signing");
    const { signActivationBatch } = await import("../../lib/flex/activation-batch");
    const signed = (key: string, b: ReturnType<typeof body>) => JSON.stringify(signActivationBatch(importPrivateKey(key), "dso-n", [b])[0]);
    const { deviceTopics } = await import("../../contracts/flex/mqtt");
    const h = await startHarness({ nodes: [{ nodeId: "dso-n", role: "DSO", gridNodes: ["gn-a"], trader: "dso-north" }], timing: { offerRate: { callsPerSecond: 5, burst: 10 } } });
    closers.push(h.close);
    const n = h.node("dso-n");
    const results: { deviceId: string; status: string; reason?: string }[] = [];
    const refusals: { deviceId: string; reason: string }[] = [];
    const fleet = await startFlexFleet({
      nodeUrl: n.node.url,
      token: n.fspToken,
      mqttUrl: h.mqttUrl,
      devices: 2,
      kinds: ["battery"],
      reviseEveryMs: 600_000,
      onEvent: (deviceId, e) => {
        if (e.type === "offer-result") results.push({ deviceId, status: e.status, reason: e.reason });
        if (e.type === "refused") refusals.push({ deviceId, reason: e.reason });
      },
    });
    closers.push(fleet.close);
    const [a, b] = fleet.devices;
    await eventually(() => n.node.health().offersOpen === 4, "both devices' offers in the book");
    const bookBefore = n.node.health().offersOpen;
    const rejected = () => n.node.health().rejected;
    const { periodFrom, periodTo } = windowAhead(P, 1);
    const base = { offerId: "x", direction: "up", periodFrom, periodTo, quantityW: 1000, unitPrice: 50, baselineW: 0 };
    const topicA = deviceTopics(a.id).offers;

    a.publishRaw(topicA, JSON.stringify({ ...base, offerId: "neg", quantityW: -5 }));
    a.publishRaw(topicA, JSON.stringify({ ...base, offerId: "absurd", quantityW: 10_000_000 }));
    a.publishRaw(topicA, JSON.stringify({ ...base, offerId: "past", periodFrom: periodFrom - 10 * P, periodTo: periodTo - 10 * P }));
    a.publishRaw(topicA, JSON.stringify({ ...base, offerId: "price", unitPrice: 99_999 }));
    a.publishRaw(topicA, JSON.stringify({ ...base, offerId: "stale", expiresAt: Date.now() - 1000 }));
    a.publishRaw(topicA, "{not json");
    await eventually(() => results.filter((r) => r.deviceId === a.id && r.status === "rejected").length >= 5 && (rejected()["offer:malformed_json"] ?? 0) === 1, "five rejections and a malformed count");
    const reasons = results.filter((r) => r.status === "rejected").map((r) => r.reason ?? "");
    expect(reasons.some((r) => r.startsWith("invalid") && r.includes("quantityW"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("quantity_exceeds_capability"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("period_in_past"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("invalid") && r.includes("unitPrice"))).toBe(true);
    expect(rejected()["offer:quantity_exceeds_capability"]).toBe(1);
    expect(rejected()["offer:period_in_past"]).toBe(1);
    expect(reasons).toContain("expired: expiresAt is in the past");
    expect(rejected()["offer:expired"]).toBe(1);
    expect(n.node.health().offersOpen).toBe(bookBefore);

    // Publishing under another device's topic: the broker refuses it.
    const refusedBefore = h.broker!.refused.publish;
    a.publishRaw(deviceTopics(b.id).offers, JSON.stringify({ ...base, offerId: "hijack" }));
    await eventually(() => h.broker!.refused.publish > refusedBefore, "the broker refusing a foreign topic");

    // Unknown devices never get on the broker.
    await expect(connectAsync(h.mqttUrl, { username: "flex-device-ghost", password: "whatever", reconnectPeriod: 0, connectTimeout: 5000 })).rejects.toThrow();
    expect(h.broker!.refused.login).toBeGreaterThan(0);

    // Forged, replayed and expired activations: the device refuses each.
    const intruder = await connectAsync(h.mqttUrl, { username: "intruder", password: "intruder", reconnectPeriod: 0 });
    closers.push(() => intruder.endAsync(true));
    const topicAct = deviceTopics(b.id).activation;
    const body = (seq: number, validUntil = Date.now() + 60_000) => ({ deviceId: b.id, nodeId: "dso-n", seq, stepTs: Date.now(), setpointW: -2000, validUntil, tradeIds: ["t"] });
    const forged = body(Date.now() * 10);
    await intruder.publishAsync(topicAct, signed(generateNodeKeys().privateKey, forged), { qos: 1 });
    await eventually(() => refusals.some((r) => r.deviceId === b.id && r.reason === "bad_signature"), "a forged activation refused");
    const genuine = body(Date.now() * 10 + 1);
    const genuineMessage = signed(n.keys.privateKey, genuine);
    await intruder.publishAsync(topicAct, genuineMessage, { qos: 1 });
    await eventually(() => b.setpoint() === -2000, "a genuine activation followed");
    await intruder.publishAsync(topicAct, genuineMessage, { qos: 1 });
    await eventually(() => refusals.some((r) => r.reason === "replayed"), "a replayed activation refused");
    const expired = body(Date.now() * 10 + 2, Date.now() - 1000);
    await intruder.publishAsync(topicAct, signed(n.keys.privateKey, expired), { qos: 1 });
    await eventually(() => refusals.some((r) => r.reason === "expired"), "an expired activation refused");

    // Requests: wrong participant, wrong role, bad tokens, bad values — none lands.
    const req = { buyerId: "dso-north", gridNodeId: "gn-a", direction: "up", ...windowAhead(P, 2), quantityW: 1000, maxUnitPrice: 100 };
    expect((await call(n.node, n.traderToken, "POST", "/requests", { ...req, buyerId: "dso-south" })).body.error).toBe("wrong_participant");
    expect((await call(n.node, n.fspToken, "POST", "/requests", req)).status).toBe(403);
    expect((await call(n.node, "not-a-token", "POST", "/requests", req)).status).toBe(401);
    expect((await call(n.node, n.traderToken, "POST", "/requests", { ...req, quantityW: -1 })).status).toBe(400);
    expect((await call(n.node, n.traderToken, "POST", "/requests", { ...req, quantityW: 1e13 })).status).toBe(400);
    expect((await call(n.node, n.traderToken, "POST", "/requests", { ...req, maxUnitPrice: 1e6 })).status).toBe(400);
    expect((await call(n.node, n.traderToken, "POST", "/requests", { ...req, ...windowAhead(P, -3) })).body.error).toBe("period_in_past");
    expect((await call(n.node, n.traderToken, "POST", "/requests", { ...req, gridNodeId: "gn-elsewhere" })).body.error).toBe("grid_node_not_served");
    expect((await call(n.node, n.traderToken, "POST", "/activation-signals", { tradeId: "nope", setpointW: 1 })).status).toBe(404);
    expect(((await call(n.node, n.traderToken, "GET", "/requests")).body.requests as unknown[]).length).toBe(0);
    expect(rejected()["request:wrong_participant"]).toBe(1);

    // A flooding device is throttled; the other device's next offer still gets in.
    for (let i = 0; i < 200; i++) b.publishRaw(deviceTopics(b.id).offers, JSON.stringify({ ...base, offerId: `f${i % 3}` }));
    await eventually(() => (rejected()["offer:throttled"] ?? 0) > 100, "the flood throttled");
    await eventually(() => results.some((r) => r.deviceId === b.id && r.status === "throttled"), "a throttling notice");
    a.publishRaw(topicA, JSON.stringify({ ...base, offerId: "after-flood" }));
    await eventually(() => results.some((r) => r.deviceId === a.id && r.status === "accepted" && r.reason === undefined) && n.node.health().offersOpen >= bookBefore + 1, "a calm device's offer accepted");
  });
});

describe("flex nodes: one-hop forwarding between a TSO and a DSO node", () => {
  it("activates DSO-connected devices for a TSO trade, re-signed by the DSO node, acks routed back", async () => {
    const h = await startHarness({
      nodes: [
        { nodeId: "tso", role: "TSO", gridNodes: ["gn-t"], trader: "tso-1" },
        { nodeId: "dso", role: "DSO", gridNodes: ["gn-d"], trader: "dso-north" },
      ],
    });
    closers.push(h.close);
    const tso = h.node("tso");
    const dso = h.node("dso");
    const signers = new Set<string>();
    const fleet = await startFlexFleet({ nodeUrl: dso.node.url, token: dso.fspToken, mqttUrl: h.mqttUrl, devices: 4, kinds: ["battery"], reviseEveryMs: 60_000, tickMs: 100 });
    closers.push(fleet.close);
    for (const d of fleet.devices) d.mqtt()!.on("message", (topic, payload) => topic.endsWith("/activation") && signers.add(JSON.parse(payload.toString()).nodeId));
    // The DSO's offers reach the TSO's book through the link.
    await eventually(() => tso.node.health().offersOpen >= 8, "replicated offers at the TSO");
    const created = await call(tso.node, tso.traderToken, "POST", "/requests", { buyerId: "tso-1", direction: "up", ...windowAhead(P, 2), quantityW: 6000, maxUnitPrice: 1000 });
    expect(created.status).toBe(201);
    let trade: Trade | undefined;
    await eventually(async () => {
      trade = ((await call(tso.node, tso.traderToken, "GET", "/trades")).body.trades as Trade[])[0];
      return !!trade;
    }, "a TSO trade", 15_000);
    expect(trade!.gridNodeId).toBe("gn-d");
    expect((await call(tso.node, tso.traderToken, "POST", "/activation-signals", { tradeId: trade!.id, setpointW: 6000 })).status).toBe(202);
    await eventually(() => fleet.devices.filter((d) => d.setpoint() !== null).length >= 2, "DSO devices following a TSO activation");
    expect([...signers]).toEqual(["dso"]);
    await eventually(async () => {
      const steps = (await call(tso.node, tso.traderToken, "GET", "/activations")).body.steps as ActivationStep[];
      return steps.some((s) => s.closed && s.acked >= 2);
    }, "acks routed back to the TSO");
    expect(fleet.devices.every((d) => Object.keys(d.stats.refused).length === 0)).toBe(true);
    // The TSO's trade is not the DSO's business: its trader sees nothing there.
    expect(((await call(dso.node, dso.traderToken, "GET", "/trades")).body.trades as unknown[]).length).toBe(0);
  });
});
