import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagerAuthenticator } from "../../../services/csms/gateway/auth";
import { startGateway, type Gateway } from "../../../services/csms/gateway/gateway";
import { startManager, type Manager } from "../../../services/csms/manager/manager";
import { eventually, startTestBroker } from "../../../services/csms/testkit";
import { startFleet, type Fleet } from "../../../sim/ocpp/fleet";
import { commandFeed, isFinal, type CommandView } from "../../commands/command-feed";
import { createTestDb, type TestDb } from "../../../lib/testing/db";
import { createTestUser, makeContext } from "../../testing/context";
import { createCallerFactory, type SessionUser } from "../../trpc/init";
import { appRouter } from "../../trpc/routers/_app";
import { UpstreamHealth } from "../health";
import type { LiveView } from "../kit/live-view";
import { registerConnector, unregisterConnector } from "../kit/registry";
import { createCsmsClient } from "./client";
import { createChargingConnector, NEVER_RECEIVED, type ChargingConnector } from ".";
import { reconcileCommands } from "../../commands/reconcile-commands";
import { startCsmsLiveView } from "./live-view";
import { createChargingStore } from "./store";

/**
 * The charging connector against the real thing: an MQTT broker, the CSMS manager (HTTP
 * API + SSE feed), the OCPP gateway and simulated stations over real websockets.
 */
const TOKEN = "test-api-token-0123456789";
const STATIONS = 4;
const WAIT = 20_000;

let broker: Awaited<ReturnType<typeof startTestBroker>>;
let managerDb: TestDb;
let consoleDb: TestDb;
let manager: Manager;
let managerPort: number;
let gateway: Gateway;
let fleet: Fleet;
let charging: ChargingConnector;
let view: LiveView;
const health = new UpstreamHealth();
const store = createChargingStore(4096);
let support: SessionUser;
let viewer: SessionUser;
const createCaller = createCallerFactory(appRouter);
const as = (user: SessionUser) => createCaller(makeContext(consoleDb.db, user));

const launchManager = async (port = 0) =>
  startManager({
    port,
    mqttUrl: broker.url,
    db: managerDb.db,
    apiToken: TOKEN,
    openRegistration: true,
    acceptUnknownTokens: true,
    heartbeatIntervalSec: 2,
    commandTimeoutMs: 4000,
    sweepIntervalMs: 250,
  });

const ids = () => fleet.stations.map((s) => s.id);
const outcomes = new Map<string, CommandView>();
const waitForOutcome = async (id: string) => {
  await eventually(() => Boolean(outcomes.get(id) && isFinal(outcomes.get(id)!.status)), `outcome of ${id}`, WAIT);
  return outcomes.get(id)!;
};
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));

beforeAll(async () => {
  broker = await startTestBroker();
  [managerDb, consoleDb] = await Promise.all([createTestDb(), createTestDb()]);
  manager = await launchManager();
  managerPort = Number(new URL(manager.url).port);
  gateway = await startGateway({ port: 0, mqttUrl: broker.url, authenticate: createManagerAuthenticator({ managerUrl: manager.url }) });
  // The view starts before any station exists: the first snapshot is empty, and every
  // station arrives through the feed.
  charging = createChargingConnector({ client: createCsmsClient({ baseUrl: manager.url, token: TOKEN }), health, store, downAfterMs: 1500, minBackoffMs: 100, maxBackoffMs: 400 });
  view = charging.view;
  await view.ready;
  registerConnector(charging);
  commandFeed().listen((c) => c.data && outcomes.set(c.key, c.data as CommandView));
  fleet = await startFleet({ url: gateway.url, managerUrl: manager.url, stations: STATIONS, behaviour: "idle", rebootDelayMs: [100, 200], seed: 7, idPrefix: "CT" });
  await fleet.ready;
  support = await createTestUser(consoleDb.db, "support");
  viewer = await createTestUser(consoleDb.db, "viewer");
}, 60_000);

afterAll(async () => {
  unregisterConnector("charging");
  await fleet?.close();
  await charging?.close();
  await gateway?.close();
  await manager?.close();
  await broker?.close();
  await managerDb?.close();
  await consoleDb?.close();
});

describe("the CSMS live view", () => {
  it("fills from the snapshot, then follows the feed as stations boot", async () => {
    expect(view.status().snapshots).toBe(1);
    await eventually(() => ids().every((id) => store.stations.get(id)?.online && (store.stations.get(id)?.connectors.length ?? 0) > 0), "every station online with connectors", WAIT);
    expect(health.get("charging")).toMatchObject({ state: "connected", url: manager.url });
    expect(health.get("charging")!.lastMessageAt).toBeGreaterThan(Date.now() - 10_000);
    expect(view.status().snapshots).toBe(1);

    // A second view, started now, gets the same picture from the snapshot alone.
    const other = createChargingStore();
    const late = startCsmsLiveView({ client: createCsmsClient({ baseUrl: manager.url, token: TOKEN }), health: new UpstreamHealth(), store: other });
    await late.ready;
    for (const id of ids()) expect(other.stations.get(id)?.protocol).toBe(store.stations.get(id)?.protocol);
    await late.close();
  });

  it("answers kpis from the live view", async () => {
    await eventually(() => ids().every((id) => store.stations.get(id)?.connectors.every((c) => c.status === "Available")), "all connectors Available", WAIT);
    const k = await as(viewer).charging.kpis();
    expect(k.totalStations).toBe(STATIONS);
    expect(k.online).toBe(STATIONS);
    expect(k.offline).toBe(0);
    expect(k.connectorStatus.Available).toBe(k.totalConnectors);
    expect(k.activeSessions).toBe(0);
    expect(k.synced).toBe(true);
    expect(k.stationTiles).toEqual({ charging: 0, faulted: 0, unavailable: 0, offline: 0 });
    expect(k.link?.state).toBe("connected");
  });

  it("streams stations to the browser by id: a snapshot, then changes", async () => {
    const it = (await as(viewer).charging.stations.onChange({ stationId: ids()[0] }))[Symbol.asyncIterator]();
    const first = await it.next();
    // A tracked envelope: [event id, message].
    const message = (first.value as unknown as [string, { kind: string; items: { id: string }[] }])[1];
    expect(message.kind).toBe("snapshot");
    expect(message.items.map((s) => s.id)).toEqual([ids()[0]]);
    await it.return?.();

    // A table window watches the stations on screen by id.
    const watched = [ids()[1]!, ids()[2]!];
    const few = (await as(viewer).charging.stations.onChange({ stationIds: watched }))[Symbol.asyncIterator]();
    const snapshot = ((await few.next()).value as unknown as [string, { kind: string; items: { id: string }[] }])[1];
    expect(snapshot.items.map((s) => s.id).sort()).toEqual([...watched].sort());
    await few.return?.();

    // Never the whole fleet at once: the table reads it a window at a time.
    expect(await codeOf(as(viewer).charging.stations.onChange({}))).toBe("BAD_REQUEST");
  });

  it("answers a window of the stations table from the live view, with the match count and the tiles", async () => {
    const page = await as(viewer).charging.stations.list({ sort: "-id", offset: 1, limit: 2 });
    expect(page.total).toBe(STATIONS);
    expect(page.offset).toBe(1);
    expect(page.items.map((s) => s.id)).toEqual([...ids()].sort().reverse().slice(1, 3));
    expect(page.figures).toMatchObject({ totalStations: STATIONS, stationTiles: { faulted: 0, offline: 0 } });
    const one = await as(viewer).charging.stations.list({ q: ids()[0]!.toLowerCase(), limit: 10 });
    expect(one.items.map((s) => s.id)).toEqual([ids()[0]]);
    expect(await codeOf(as(viewer).charging.stations.list({ limit: 10_000 }))).toBe("BAD_REQUEST");
  });
});

describe("charging queries through the manager", () => {
  it("reads a station, its message log (paged and as CSV), transactions and tokens", async () => {
    const caller = as(viewer);
    const id = ids()[0]!;
    const detail = await caller.charging.stations.get({ stationId: id });
    expect(detail).toMatchObject({ id, online: true });
    const page = await caller.charging.stations.messages({ stationId: id, limit: 2 });
    expect(page.items.length).toBe(2);
    if (page.nextCursor) {
      const older = await caller.charging.stations.messages({ stationId: id, limit: 2, cursor: page.nextCursor });
      expect(older.items[0]?.id).not.toBe(page.items[0]?.id);
    }
    expect(await caller.charging.stations.messagesCsv({ stationId: id })).toMatch(/BootNotification/);
    expect(await caller.charging.transactions.list({})).toMatchObject({ items: expect.any(Array) });
    expect(await codeOf(caller.charging.stations.get({ stationId: "NO-SUCH-STATION" }))).toBe("NOT_FOUND");
    expect(await codeOf(caller.charging.transactions.get({ id: "999999999" }))).toBe("NOT_FOUND");
  });

  it("answers unknown and malformed ids with NOT_FOUND, never a server error the browser would retry", async () => {
    const caller = as(viewer);
    for (const stationId of ["NO-SUCH-STATION", "not a station id!", "%E0%A4%A", "x".repeat(300)]) {
      expect(await codeOf(caller.charging.stations.get({ stationId }))).toBe("NOT_FOUND");
      expect(await codeOf(caller.charging.stations.messages({ stationId }))).toBe("NOT_FOUND");
      expect(await codeOf(caller.charging.stations.messagesCsv({ stationId }))).toBe("NOT_FOUND");
    }
    for (const id of ["999999999", "no/such/tx", "..", "y".repeat(300)]) expect(await codeOf(caller.charging.transactions.get({ id }))).toBe("NOT_FOUND");
    expect(await codeOf(as(support).charging.tokens.update({ idTag: "NO-SUCH-CARD", status: "Blocked" }))).toBe("NOT_FOUND");
  });

  it("lets support manage tokens; viewers only read", async () => {
    const caller = as(support);
    await caller.charging.tokens.create({ idTag: "CARD-0001", status: "Accepted", note: "test card" });
    expect(await codeOf(caller.charging.tokens.create({ idTag: "CARD-0001", status: "Accepted" }))).toBe("CONFLICT");
    await caller.charging.tokens.update({ idTag: "CARD-0001", status: "Blocked" });
    const list = await as(viewer).charging.tokens.list({ q: "CARD-0001" });
    expect(list.items).toEqual([expect.objectContaining({ idTag: "CARD-0001", status: "Blocked", note: "test card" })]);
    expect(await codeOf(as(viewer).charging.tokens.delete({ idTag: "CARD-0001" }))).toBe("FORBIDDEN");
    await caller.charging.tokens.delete({ idTag: "CARD-0001" });
    expect((await caller.charging.tokens.list({ q: "CARD-0001" })).items).toEqual([]);
    expect(await codeOf(caller.charging.tokens.delete({ idTag: "CARD-0001" }))).toBe("NOT_FOUND");
  });
});

describe("charging commands end to end", () => {
  it("soft-resets a simulated station: accepted, and the station boots again", async () => {
    const id = ids()[0]!;
    const bootedBefore = store.stations.get(id)!.bootedAt;
    const { command } = await as(support).charging.commands.send({ stationId: id, action: "reset", params: { type: "soft" }, idempotencyKey: "reset-soft-0001" });
    expect(command).toMatchObject({ domain: "charging", target: id, action: "reset", status: "sent" });
    const done = await waitForOutcome(command.id);
    expect(done.status).toBe("accepted");
    expect(done.result).toMatchObject({ response: { status: "Accepted" } });
    await eventually(() => store.stations.get(id)!.bootedAt !== bootedBefore && store.stations.get(id)!.online, "re-boot seen in the view", WAIT);
    const audit = await consoleDb.db.auditEntry.findMany({ where: { actorId: support.id, target: id }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.outcome])).toEqual(expect.arrayContaining([["charging.commands.send", "ok"], ["command.charging.reset.outcome", "ok"]]));
  });

  it("refuses a hard reset without confirmation (BAD_REQUEST on confirm) and sends nothing", async () => {
    const id = ids()[1]!;
    const before = await consoleDb.db.command.count();
    const error = await as(support)
      .charging.commands.send({ stationId: id, action: "reset", params: { type: "hard" }, idempotencyKey: "reset-hard-0001" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("BAD_REQUEST");
    expect((error as { field?: string }).field).toBe("confirm");
    expect(await consoleDb.db.command.count()).toBe(before);
  });

  it("answers unknown stations with NOT_FOUND and invalid params with BAD_REQUEST, before storing anything", async () => {
    const before = await consoleDb.db.command.count();
    expect(await codeOf(as(support).charging.commands.send({ stationId: "NOPE-1", action: "clearCache", params: {}, idempotencyKey: "unknown-0001" }))).toBe("NOT_FOUND");
    expect(await codeOf(as(support).charging.commands.send({ stationId: ids()[0]!, action: "unlockConnector", params: { connectorId: 0 }, idempotencyKey: "bad-0001" } as never))).toBe("BAD_REQUEST");
    expect(await consoleDb.db.command.count()).toBe(before);
  });

  it("never lets a viewer send", async () => {
    expect(await codeOf(as(viewer).charging.commands.send({ stationId: ids()[0]!, action: "clearCache", params: {}, idempotencyKey: "viewer-0001" }))).toBe("FORBIDDEN");
  });

  it("refuses an offline station clearly, and sends bulk commands with per-station outcomes", async () => {
    const offline = fleet.stations.at(-1)!;
    await offline.close();
    await eventually(() => store.stations.get(offline.id)?.online === false, "station offline in the view", WAIT);

    const { command } = await as(support).charging.commands.send({ stationId: offline.id, action: "clearCache", params: {}, idempotencyKey: "offline-0001" });
    const done = await waitForOutcome(command.id);
    // Offline is its own outcome: nothing was sent, so it is neither rejected nor failed.
    expect(done.status).toBe("offline");
    expect(done.error).toMatch(/offline; nothing was sent/);
    expect(done.result).toMatchObject({ offline: true });

    const { bulkId, commandIds } = await as(support).charging.commands.sendBulk({ stationIds: ids(), action: "triggerMessage", params: { message: "Heartbeat" }, idempotencyKey: "bulk-0001" });
    expect(commandIds).toHaveLength(STATIONS);
    const results = await Promise.all(commandIds.map(waitForOutcome));
    const byStation = Object.fromEntries(results.map((c) => [c.target, c.status]));
    for (const id of ids().filter((i) => i !== offline.id)) expect(byStation[id]).toBe("accepted");
    expect(byStation[offline.id]).toBe("offline");
    expect(results.every((c) => (c.payload as { bulkId?: string }).bulkId === bulkId)).toBe(true);

    // The same request again is the same bulk, not a second round of commands.
    const again = await as(support).charging.commands.sendBulk({ stationIds: ids(), action: "triggerMessage", params: { message: "Heartbeat" }, idempotencyKey: "bulk-0001" });
    expect(again).toEqual({ bulkId, commandIds });

    // A filter picks from the live view.
    const online = await as(support).charging.commands.sendBulk({ filter: { online: true }, action: "clearCache", params: {}, idempotencyKey: "bulk-0002" });
    expect(online.commandIds).toHaveLength(STATIONS - 1);
    expect(await codeOf(as(support).charging.commands.sendBulk({ stationIds: ids(), action: "reset", params: { type: "hard" }, idempotencyKey: "bulk-0003" }))).toBe("BAD_REQUEST");
  });
});

// The manager keeps every outcome under the console's commandId (GET /api/v0/commands/{id}).
describe("a command's outcome survives a console restart", () => {
  /** What a console had stored when it died mid-command: the Command row, `sent`. */
  const leftOpen = async (stationId: string) =>
    consoleDb.db.command.create({
      data: { idempotencyKey: `left-open-${stationId}-${Date.now()}`, actorId: support.id, actorEmail: support.email, domain: "charging", target: stationId, action: "clearCache", payload: { params: {} }, traceId: "dead-console", status: "sent", sentAt: new Date() },
    });

  it("closes a command the dead console had sent with the station's answer, audited once", async () => {
    const row = await leftOpen(ids()[0]!);
    // The manager got it and the station answered; the answer never reached the dead console.
    expect((await charging.client.sendCommand(ids()[0]!, { action: "clearCache", params: {}, commandId: row.id })).status).toBe("accepted");
    expect((await reconcileCommands(consoleDb.db)).recovered).toBe(1);
    expect(await consoleDb.db.command.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: "accepted", result: { ocppAction: "ClearCache" } });
    await reconcileCommands(consoleDb.db);
    expect(await consoleDb.db.auditEntry.count({ where: { action: "command.charging.clearCache.outcome", input: { path: ["commandId"], equals: row.id } } })).toBe(1);
  });

  it("fails a command the manager never received, saying nothing was sent", async () => {
    const row = await leftOpen(ids()[1]!);
    expect((await reconcileCommands(consoleDb.db, { notReceivedAfterMs: 0 })).notReceived).toBe(1);
    expect(await consoleDb.db.command.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: "failed", error: NEVER_RECEIVED });
  });
});

describe("manager restarts", () => {
  it("reports the link reconnecting, then resyncs from a fresh snapshot when the manager is back", async () => {
    const snapshots = view.status().snapshots;
    const epoch = view.status().epoch;
    await manager.close();
    await eventually(() => health.get("charging")?.state !== "connected", "link no longer connected", WAIT);
    expect(await codeOf(as(viewer).charging.stations.get({ stationId: ids()[0]! }))).toBe("PRECONDITION_FAILED");
    await eventually(() => health.get("charging")?.state === "down", "link down", WAIT);

    manager = await launchManager(managerPort);
    await eventually(() => health.get("charging")?.state === "connected" && view.status().snapshots > snapshots, "resynced after the restart", WAIT);
    expect(view.status().epoch).not.toBe(epoch);
    for (const id of ids()) expect(store.stations.has(id)).toBe(true);

    // And it keeps following: a reset station shows its new boot.
    const id = ids()[1]!;
    const bootedBefore = store.stations.get(id)!.bootedAt;
    const { command } = await as(support).charging.commands.send({ stationId: id, action: "reset", params: { type: "soft" }, idempotencyKey: "reset-soft-0002" });
    expect((await waitForOutcome(command.id)).status).toBe("accepted");
    await eventually(() => store.stations.get(id)!.bootedAt !== bootedBefore, "re-boot seen after the restart", WAIT);
  });
});

describe("without a manager", () => {
  it("says the CSMS manager is unreachable", async () => {
    const h = new UpstreamHealth();
    const dead = createChargingConnector({ client: createCsmsClient({ baseUrl: "http://127.0.0.1:1", token: TOKEN }), health: h, store: createChargingStore(), downAfterMs: 300, minBackoffMs: 50, maxBackoffMs: 100 });
    registerConnector(dead);
    try {
      await eventually(() => h.get("charging")?.state === "down", "down", WAIT);
      const error = await as(viewer).charging.stations.get({ stationId: "X1" }).catch((e: TRPCError) => e);
      expect(error).toMatchObject({ code: "PRECONDITION_FAILED", message: expect.stringMatching(/CSMS manager unreachable/) });
    } finally {
      registerConnector(charging);
      await dead.close();
    }
  });
});
