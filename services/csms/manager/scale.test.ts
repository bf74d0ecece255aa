import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, usingServices, type TestDb } from "../../../lib/testing/db";
import { randomPasswords, startFleet, type Fleet } from "../../../sim/ocpp/fleet";
import { createManagerAuthenticator } from "../gateway/auth";
import { startGateway, type Gateway } from "../gateway/gateway";
import { csmsTopics } from "../../../contracts/csms/mqtt";
import { eventually } from "../testkit";
import { api, metricValue, observe, openSse } from "./harness";
import { startManager, type Manager } from "./manager";

/**
 * Scale-out, proven against real servers: one gateway and TWO managers on the machine's
 * Mosquitto (MQTT 5 shared subscriptions) and PostgreSQL. Every station message must be
 * handled exactly once, and commands through either manager must complete.
 */

const MQTT_URL = process.env.TEST_MQTT_URL ?? "mqtt://127.0.0.1:1883";
const TOKEN = "scale-api-token-0123456789";
const STATIONS = 20;
const WAIT = 30_000;

describe.skipIf(!usingServices())("scale-out: one gateway, two managers, Mosquitto + PostgreSQL", () => {
  const prefix = `cs-scale-${randomBytes(4).toString("hex")}`;
  const idPrefix = `SC${randomBytes(2).toString("hex").toUpperCase()}-`;
  let testDb: TestDb;
  let db2: PrismaClient;
  let a: Manager;
  let b: Manager;
  let gateway: Gateway;
  let fleet: Fleet;
  let observer: Awaited<ReturnType<typeof observe>>;
  let feedB: Awaited<ReturnType<typeof openSse>>;

  beforeAll(async () => {
    testDb = await createTestDb();
    // Each manager has its own connection pool, as separate processes would.
    db2 = new PrismaClient({ adapter: new PrismaPg({ connectionString: testDb.url! }) });
    const common = { affinity: "share" as const, port: 0, mqttUrl: MQTT_URL, topicPrefix: prefix, apiToken: TOKEN, acceptUnknownTokens: true, heartbeatIntervalSec: 5, commandTimeoutMs: 10_000 };
    // A manager id is its MQTT client id: unique on the machine's shared broker.
    a = await startManager({ ...common, db: testDb.db, managerId: `a${randomBytes(3).toString("hex")}` });
    b = await startManager({ ...common, db: db2, managerId: `b${randomBytes(3).toString("hex")}` });
    observer = await observe(MQTT_URL, prefix);
    feedB = await openSse(`${b.url}/api/v0/events`, TOKEN);
    gateway = await startGateway({ port: 0, mqttUrl: MQTT_URL, topicPrefix: prefix, authenticate: createManagerAuthenticator({ managerUrl: b.url }) });
    const http = api(a.url, TOKEN);
    const ids = Array.from({ length: STATIONS }, (_, i) => `${idPrefix}${String(i + 1).padStart(5, "0")}`);
    const passwordFor = randomPasswords();
    for (const id of ids) expect((await http.register(id, passwordFor(id))).status).toBe(201);
    fleet = await startFleet({ url: gateway.url, stations: STATIONS, idPrefix, passwordFor, behaviour: "idle", speed: 120, meterIntervalMs: 300, connectRatePerSec: 50, seed: 7 });
    await fleet.ready;
  }, 120_000);

  afterAll(async () => {
    feedB?.close();
    await fleet?.close();
    await gateway?.close();
    if (observer) {
      // Leave no retained state behind on the shared broker.
      const topics = csmsTopics(prefix);
      for (const s of fleet?.stations ?? []) await observer.client.publishAsync(topics.presence(s.id), "", { qos: 1, retain: true });
      if (gateway) await observer.client.publishAsync(topics.gateway(gateway.gatewayId), "", { qos: 1, retain: true });
      await observer.close();
    }
    await a?.close();
    await b?.close();
    await db2?.$disconnect();
    await testDb?.close();
  }, 60_000);

  it("uses MQTT 5 shared subscriptions", () => {
    expect(a.sharedSubscription()).toBe(true);
    expect(b.sharedSubscription()).toBe(true);
  });

  it("handles every station message exactly once, shared between both managers", async () => {
    // Some charging, so there are transactions and meter values too: each session runs
    // until the managers have stored energy for it.
    const charging = fleet.stations.slice(0, 6);
    await Promise.all(charging.map((s) => s.plugIn(1)));
    await eventually(async () => {
      const txs = (await api(a.url, TOKEN).get(`/api/v0/transactions?active=true&limit=1000`)).json.items as { stationId: string; energyWh: number }[];
      return charging.every((s) => txs.some((t) => t.stationId === s.id && t.energyWh > 0));
    }, "energy metered on every session", WAIT);
    await Promise.all(charging.map((s) => s.stopTransaction(1)));

    const calls = () => observer.seen.filter((m) => m.direction === "in" && m.envelope.type === 2);
    const answered = () => {
      const answers = new Map<string, number>();
      for (const m of observer.seen) if (m.direction === "out" && m.envelope.type !== 2) answers.set(m.envelope.id, (answers.get(m.envelope.id) ?? 0) + 1);
      return answers;
    };
    await eventually(() => calls().every((c) => answered().has(c.envelope.id)), "every station call answered", WAIT);
    // Exactly once, on a counter instead of a pause: the managers' own count of handled calls
    // catches up with the calls the observer saw. A call delivered to both managers would be
    // counted twice, and the count would stay ahead for good.
    const handled = async (m: Manager) => metricValue(await (await fetch(`${m.url}/metrics`)).text(), "csms_manager_station_calls_total");
    await eventually(async () => (await handled(a)) + (await handled(b)) === calls().length, "the managers' count of handled calls equals the calls seen", WAIT);
    const answers = answered();
    const callIds = calls().map((c) => c.envelope.id);
    expect(callIds.length).toBeGreaterThan(STATIONS * 4);
    expect(callIds.filter((id) => answers.get(id) !== 1)).toEqual([]);
    expect(new Set(callIds).size).toBe(callIds.length);

    // The message log holds each inbound CALL and each answer once.
    await Promise.all([a.flush(), b.flush()]);
    const rows = await testDb.db.csmsMessageLog.findMany({ where: { stationId: { startsWith: idPrefix }, type: 2, direction: "in" }, select: { messageId: true } });
    const logged = new Map<string, number>();
    for (const r of rows) logged.set(r.messageId, (logged.get(r.messageId) ?? 0) + 1);
    expect(callIds.filter((id) => logged.get(id) !== 1)).toEqual([]);
    const outRows = await testDb.db.csmsMessageLog.findMany({ where: { stationId: { startsWith: idPrefix }, type: 3, direction: "out" }, select: { messageId: true } });
    expect(outRows.length).toBe(new Set(outRows.map((r) => r.messageId)).size);

    // Both managers took part.
    expect(await handled(a)).toBeGreaterThan(0);
    expect(await handled(b)).toBeGreaterThan(0);

    // Transactions landed once each.
    const txs = (await api(b.url, TOKEN).get(`/api/v0/transactions?limit=1000`)).json;
    const mine = txs.items.filter((t: { stationId: string }) => t.stationId.startsWith(idPrefix));
    expect(mine.length).toBe(6);
    expect(mine.every((t: { active: boolean; energyWh: number }) => !t.active && t.energyWh > 0)).toBe(true);
  });

  it("gives a complete view through either manager, and each feed carries the other's changes", async () => {
    for (const m of [a, b]) {
      const snap = (await api(m.url, TOKEN).get("/api/v0/stations/snapshot")).json;
      const mine = snap.stations.filter((s: { id: string }) => s.id.startsWith(idPrefix));
      expect(mine).toHaveLength(STATIONS);
      expect(mine.every((s: { online: boolean; connectors: unknown[]; bootedAt: string | null }) => s.online && s.connectors.length > 0 && s.bootedAt)).toBe(true);
    }
    // Manager B's feed has every station's boot, although about half were handled by A.
    const booted = new Set(feedB.events.filter((e) => e.event === "station" && e.data.id.startsWith(idPrefix) && e.data.bootedAt).map((e) => e.data.id));
    expect(booted.size).toBe(STATIONS);
  });

  it("completes commands issued through either manager", async () => {
    const results = await Promise.all(
      fleet.stations.map((s, i) => api((i % 2 ? a : b).url, TOKEN).command(s.id, "triggerMessage", { message: "Heartbeat" })),
    );
    expect(results.map((r) => r.json.status)).toEqual(results.map(() => "accepted"));
    // Several per station through both managers at once; each manager queues its own.
    const burst = await Promise.all(
      fleet.stations.slice(0, 4).flatMap((s) => [a, b, a, b].map((m) => api(m.url, TOKEN).command(s.id, "clearCache"))),
    );
    expect(burst.map((r) => r.json.status)).toEqual(burst.map(() => "accepted"));
    const forwarded = async (m: Manager) => metricValue(await (await fetch(`${m.url}/metrics`)).text(), "csms_manager_forwarded_results_total");
    expect((await forwarded(a)) + (await forwarded(b))).toBeGreaterThan(0);
  });
});
