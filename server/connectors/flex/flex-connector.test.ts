import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, eventually, startHarness, TEST_TIMING, windowAhead } from "../../../services/flex/testkit";
import { startFlexFleet, type FlexFleet } from "../../../sim/flex/fleet";
import { createTestDb, type TestDb } from "../../../lib/testing/db";
import { loadEnv } from "../../env";
import { createTestUser, makeContext } from "../../testing/context";
import { createCallerFactory, type SessionUser } from "../../trpc/init";
import { appRouter } from "../../trpc/routers/_app";
import { UpstreamHealth } from "../health";
import { registerConnector, unregisterConnector } from "../kit/registry";
import { connectFlex, createFlexConnector, flexLinkId, type FlexConnector } from ".";
import { createFlexStore, requestKey } from "./store";

/**
 * The flex connector against the real thing: a TSO node and a DSO node linked as peers on
 * a closed broker, simulated devices on both, the console following both nodes' feeds and
 * acting for each trader with that trader's own token.
 */
const P = TEST_TIMING.periodMs;
const WAIT = 20_000;
const TSO = "flex-tso";
const DSO = "flex-dso-north";

let h: Awaited<ReturnType<typeof startHarness>>;
let fleets: FlexFleet[] = [];
let flex: FlexConnector;
let consoleDb: TestDb;
const health = new UpstreamHealth();
const store = createFlexStore(4096);
const users: Record<"admin" | "viewer" | "operator" | "dsoTrader" | "tsoTrader", SessionUser> = {} as never;
const createCaller = createCallerFactory(appRouter);
const as = (user: SessionUser) => createCaller(makeContext(consoleDb.db, user));
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
let n = 0;
const key = () => `test-key-${++n}-0000`;

beforeAll(async () => {
  h = await startHarness({
    nodes: [
      { nodeId: TSO, role: "TSO", gridNodes: ["gn-central-1"], trader: "tso-1" },
      { nodeId: DSO, role: "DSO", gridNodes: ["gn-north-1", "gn-north-2"], trader: "dso-north" },
    ],
  });
  for (const id of [TSO, DSO]) {
    const node = h.node(id);
    fleets.push(await startFlexFleet({ nodeUrl: node.node.url, token: node.fspToken, mqttUrl: h.mqttUrl, devices: 4, kinds: ["battery"], reviseEveryMs: 1000, telemetryEveryMs: 200, tickMs: 100 }));
  }
  flex = createFlexConnector({
    health,
    store,
    nodeUrls: { [TSO]: h.node(TSO).node.url, [DSO]: h.node(DSO).node.url },
    consoleToken: h.consoleToken,
    traderNodes: { "tso-1": TSO, "dso-north": DSO },
    traderTokens: { "tso-1": h.node(TSO).traderToken, "dso-north": h.node(DSO).traderToken },
    minBackoffMs: 100,
    maxBackoffMs: 400,
    downAfterMs: 1500,
  });
  await flex.ready;
  registerConnector(flex);
  consoleDb = await createTestDb();
  users.admin = await createTestUser(consoleDb.db, "admin");
  users.viewer = await createTestUser(consoleDb.db, "viewer");
  users.operator = await createTestUser(consoleDb.db, "operator");
  users.dsoTrader = await createTestUser(consoleDb.db, "trader", { participantId: "dso-north" });
  users.tsoTrader = await createTestUser(consoleDb.db, "trader", { participantId: "tso-1" });
}, 60_000);

afterAll(async () => {
  unregisterConnector("flex");
  await flex?.close();
  for (const f of fleets) await f.close();
  fleets = [];
  await h?.close();
  await consoleDb?.close();
});

const commandCount = () => consoleDb.db.command.count();

describe("the flex live views", () => {
  it("follows both nodes: health with timing, depth of the devices' offers, bundles every round", async () => {
    await eventually(() => [TSO, DSO].every((id) => store.nodes.get(id)?.devicesOnline === 4), "both nodes' devices online in the store", WAIT);
    expect(store.nodes.get(DSO)).toMatchObject({ role: "DSO", periodMs: P, gridNodes: ["gn-north-1", "gn-north-2"] });
    expect(health.get(flexLinkId(TSO))?.state).toBe("connected");
    expect(health.get(flexLinkId(DSO))?.state).toBe("connected");
    await eventually(() => [...store.depth.values()].some((d) => d.nodeId === DSO && d.levels.length > 0), "order-book depth from the DSO node", WAIT);
    await eventually(() => [...store.bundles.values()].some((b) => b.nodeId === DSO && b.status === "collecting"), "bundles forming on the DSO node", WAIT);
  });

  it("is off without FLEX_NODE_URLS or with off", () => {
    expect(connectFlex(new UpstreamHealth(), loadEnv({ SWITCHYARD_DATA_DIR: "/nonexistent" }))).toBeNull();
    expect(connectFlex(new UpstreamHealth(), loadEnv({ SWITCHYARD_DATA_DIR: "/nonexistent", FLEX_NODE_URLS: "off" }))).toBeNull();
    expect(() => loadEnv({ FLEX_NODE_URLS: "flex-1=ftp://x" })).toThrow(/FLEX_NODE_URLS/);
  });
});

describe("trader actions: own participant only, each a command with its outcome and audit", () => {
  let requestId = "";

  it("refuses bad input before anything is stored or sent (BAD_REQUEST, with the field)", async () => {
    const before = await commandCount();
    const { periodFrom, periodTo } = windowAhead(P, 2);
    const base = { idempotencyKey: key(), gridNodeId: "gn-north-1", direction: "up" as const, periodFrom, periodTo, quantityW: 2000, maxUnitPrice: 500 };
    const trader = as(users.dsoTrader);
    const fieldOf = (p: Promise<unknown>) => p.then(() => "OK", (e: TRPCError & { field?: string }) => `${e.code}:${e.field ?? ""}`);
    expect(await fieldOf(trader.flex.requests.create({ ...base, periodFrom: periodFrom + 1 }))).toBe("BAD_REQUEST:periodFrom");
    expect(await fieldOf(trader.flex.requests.create({ ...base, gridNodeId: "gn-elsewhere" }))).toBe("BAD_REQUEST:gridNodeId");
    expect(await fieldOf(trader.flex.requests.create({ ...base, minQuantityW: 5000 }))).toBe("BAD_REQUEST:minQuantityW");
    expect(await fieldOf(trader.flex.requests.create({ ...base, periodFrom: periodFrom - 10 * P, periodTo: periodTo - 10 * P }))).toBe("BAD_REQUEST:periodTo");
    expect(await codeOf(trader.flex.requests.create({ ...base, quantityW: -5 }))).toBe("BAD_REQUEST");
    expect(await codeOf(trader.flex.requests.create({ ...base, maxUnitPrice: 99_999 }))).toBe("BAD_REQUEST");
    expect(await codeOf(trader.flex.requests.create({ ...base, buyerId: "tso-1" } as never))).toBe("BAD_REQUEST");
    expect(await commandCount()).toBe(before);
    expect(h.node(DSO).node.health().requestsOpen).toBe(0);
  });

  it("acts only for the session's participant: another participant, a viewer or an operator are refused", async () => {
    const before = await commandCount();
    const { periodFrom, periodTo } = windowAhead(P, 2);
    const base = { idempotencyKey: key(), gridNodeId: "gn-north-1", direction: "up" as const, periodFrom, periodTo, quantityW: 2000, maxUnitPrice: 500 };
    expect(await codeOf(as(users.dsoTrader).flex.requests.create({ ...base, participantId: "tso-1" }))).toBe("FORBIDDEN");
    expect(await codeOf(as(users.viewer).flex.requests.create(base))).toBe("FORBIDDEN");
    expect(await codeOf(as(users.operator).flex.requests.create(base))).toBe("FORBIDDEN");
    // An admin acts only for a participant named explicitly.
    expect(await codeOf(as(users.admin).flex.requests.create(base))).toBe("BAD_REQUEST");
    expect(await commandCount()).toBe(before);
  });

  it("creates a request on the trader's node; the feed brings it to the store; other traders never see it", async () => {
    const { periodFrom, periodTo } = windowAhead(P, 2);
    const { command, duplicate } = await as(users.dsoTrader).flex.requests.create({ idempotencyKey: key(), gridNodeId: "gn-north-1", direction: "up", periodFrom, periodTo, quantityW: 2000, maxUnitPrice: 1000 });
    expect(duplicate).toBe(false);
    expect(command).toMatchObject({ domain: "flex", action: "request.create", status: "accepted" });
    requestId = command.target.split("/")[1]!;
    expect(command.target).toBe(`${DSO}/${requestId}`);
    await eventually(() => store.requests.get(requestKey({ nodeId: DSO, id: requestId }))?.buyerId === "dso-north", "the request in the store", WAIT);
    const outcome = await consoleDb.db.auditEntry.findFirst({ where: { actorId: users.dsoTrader.id, action: "command.flex.request.create.outcome", target: command.target } });
    expect(outcome?.outcome).toBe("ok");
    const mutation = await consoleDb.db.auditEntry.findFirst({ where: { actorId: users.dsoTrader.id, action: "flex.requests.create" }, orderBy: { id: "desc" } });
    expect(mutation?.outcome).toBe("ok");

    // The TSO trader: not in their stream, NOT_FOUND by id, and cannot revise or cancel it.
    const it = (await as(users.tsoTrader).flex.requests.onChange())[Symbol.asyncIterator]();
    const first = (await it.next()).value as unknown as [string, { kind: string; items: { id: string }[] }];
    await it.return?.();
    expect(first[1].kind).toBe("snapshot");
    expect(first[1].items.map((r) => r.id)).not.toContain(requestId);
    expect(await codeOf(as(users.tsoTrader).flex.requests.get({ nodeId: DSO, requestId }))).toBe("NOT_FOUND");
    const before = await commandCount();
    expect(await codeOf(as(users.tsoTrader).flex.requests.revise({ idempotencyKey: key(), nodeId: DSO, requestId, quantityW: 1 }))).toBe("NOT_FOUND");
    expect(await codeOf(as(users.tsoTrader).flex.requests.cancel({ idempotencyKey: key(), nodeId: DSO, requestId }))).toBe("NOT_FOUND");
    expect(await commandCount()).toBe(before);
    // The viewer reads everything.
    expect((await as(users.viewer).flex.requests.get({ nodeId: DSO, requestId })).buyerId).toBe("dso-north");
  });

  it("revises with optimistic concurrency and keeps every revision", async () => {
    const trader = as(users.dsoTrader);
    const revised = await trader.flex.requests.revise({ idempotencyKey: key(), nodeId: DSO, requestId, quantityW: 3000, revision: 1 });
    expect(revised.command.status).toBe("accepted");
    const stale = await trader.flex.requests.revise({ idempotencyKey: key(), nodeId: DSO, requestId, quantityW: 2500, revision: 1 });
    expect(stale.command.status).toBe("rejected");
    expect(stale.command.error).toMatch(/revision 2/);
    const detail = await trader.flex.requests.get({ nodeId: DSO, requestId });
    expect(detail.revision).toBe(2);
    expect(detail.revisions.map((r) => r.quantityW)).toEqual([2000, 3000]);
    // The same idempotency key answers with the first command, never a resend.
    const k = key();
    const once = await trader.flex.requests.revise({ idempotencyKey: k, nodeId: DSO, requestId, maxUnitPrice: 900 });
    const again = await trader.flex.requests.revise({ idempotencyKey: k, nodeId: DSO, requestId, maxUnitPrice: 900 });
    expect(again).toMatchObject({ duplicate: true, command: { id: once.command.id } });
    expect((await trader.flex.requests.get({ nodeId: DSO, requestId })).revision).toBe(3);
  });

  it("awards a trade at window sealing, activates it, devices follow, and it settles; CSV export is audited", async () => {
    const trader = as(users.dsoTrader);
    await eventually(() => [...store.trades.values()].some((t) => t.requestId === requestId), "a trade for the request", WAIT);
    const trade = [...store.trades.values()].find((t) => t.requestId === requestId)!;
    expect(trade).toMatchObject({ nodeId: DSO, buyerId: "dso-north", quantityW: 3000 });
    await eventually(() => [...store.bundles.values()].some((b) => b.id === trade.bundleId && b.status === "matched"), "the sealed, matched bundle", WAIT);

    expect(await codeOf(as(users.tsoTrader).flex.activations.signal({ idempotencyKey: key(), nodeId: DSO, tradeId: trade.id, setpointW: 1000 }))).toBe("NOT_FOUND");
    expect(await codeOf(trader.flex.activations.signal({ idempotencyKey: key(), nodeId: DSO, tradeId: trade.id, setpointW: 999_999 }))).toBe("BAD_REQUEST");
    // The window starts when it is sealed; wait until the trade's period has begun so the signal applies now.
    await eventually(() => Date.now() >= trade.period, "the trade's period", WAIT);
    const sent = await trader.flex.activations.signal({ idempotencyKey: key(), nodeId: DSO, tradeId: trade.id, setpointW: 1500 });
    expect(sent.command).toMatchObject({ status: "accepted", action: "activation.signal" });
    await eventually(() => [...store.steps.values()].some((s) => s.tradeId === trade.id && s.requestedW === 1500 && s.acked > 0 && s.closed), "acked steps in the store", WAIT);
    await eventually(() => [...store.steps.values()].some((s) => s.tradeId === trade.id && (s.deliveredW ?? 0) > 0), "delivered power measured", WAIT);

    await eventually(() => [...store.settlements.values()].some((s) => s.tradeId === trade.id), "a settlement after the period", WAIT);
    const csv = await trader.flex.settlements.exportCsv();
    expect(csv.rows).toBe(1);
    expect(csv.csv.split("\r\n")[0]).toMatch(/^nodeId,tradeId,requestId,buyerId,period/);
    expect(csv.csv).toContain(trade.id);
    expect((await as(users.tsoTrader).flex.settlements.exportCsv()).rows).toBe(0);
    expect(await consoleDb.db.auditEntry.count({ where: { action: "flex.settlements.exportCsv", actorId: users.dsoTrader.id } })).toBe(1);
  });

  it("lets an admin act for a named participant, and cancels", async () => {
    const { periodFrom, periodTo } = windowAhead(P, 4);
    const made = await as(users.admin).flex.requests.create({ idempotencyKey: key(), participantId: "tso-1", direction: "down", periodFrom, periodTo, quantityW: 1000, maxUnitPrice: 100 });
    expect(made.command).toMatchObject({ status: "accepted", target: expect.stringMatching(new RegExp(`^${TSO}/`)) });
    const id = made.command.target.split("/")[1]!;
    await eventually(() => store.requests.get(requestKey({ nodeId: TSO, id }))?.buyerId === "tso-1", "the TSO request in the store", WAIT);
    const cancelled = await as(users.tsoTrader).flex.requests.cancel({ idempotencyKey: key(), nodeId: TSO, requestId: id });
    expect(cancelled.command.status).toBe("accepted");
    await eventually(() => store.requests.get(requestKey({ nodeId: TSO, id }))?.status === "cancelled", "cancelled in the store", WAIT);
    expect(await codeOf(as(users.tsoTrader).flex.requests.cancel({ idempotencyKey: key(), nodeId: TSO, requestId: id }))).toBe("CONFLICT");
    // Straight to the node: the trader token the console holds acts only for its participant there too.
    expect((await call(h.node(TSO).node, h.node(TSO).traderToken, "POST", "/requests", { buyerId: "dso-north", direction: "up", periodFrom, periodTo, quantityW: 1, maxUnitPrice: 1 })).status).toBe(403);
  });

  it("context says whom the caller acts for", async () => {
    const own = await as(users.dsoTrader).flex.market.context();
    expect(own).toMatchObject({ participantId: "dso-north", canTrade: true, participants: [{ participantId: "dso-north", nodeId: DSO }] });
    expect(own.nodes.map((x) => x.nodeId).sort()).toEqual([DSO, TSO]);
    expect((await as(users.admin).flex.market.context()).participants).toHaveLength(2);
    expect(await as(users.viewer).flex.market.context()).toMatchObject({ participantId: null, canTrade: false, participants: [] });
  });
});

describe("a node restart", () => {
  it("resyncs that node from a fresh snapshot and keeps the other node's entities", async () => {
    const tsoRequests = [...store.requests.values()].filter((r) => r.nodeId === TSO).length;
    const snapshots = flex.nodes.get(DSO)!.view.status().snapshots;
    await h.restart(DSO);
    await eventually(() => flex.nodes.get(DSO)!.view.status().snapshots > snapshots && flex.nodes.get(DSO)!.view.status().connected, "a resync after the restart", WAIT);
    expect([...store.requests.values()].filter((r) => r.nodeId === TSO).length).toBe(tsoRequests);
  });
});
