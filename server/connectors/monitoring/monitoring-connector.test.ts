import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, pmsDataset, startTestMonitoring, type TestMonitoring } from "../../../services/monitoring/testkit";
import { createTestDb, type TestDb } from "../../../lib/testing/db";
import { loadEnv } from "../../env";
import { createTestUser, makeContext } from "../../testing/context";
import { createCallerFactory, type SessionUser } from "../../trpc/init";
import { appRouter } from "../../trpc/routers/_app";
import { UpstreamHealth } from "../health";
import { registerConnector, unregisterConnector } from "../kit/registry";
import { connectMonitoring, createMonitoringClient, createMonitoringConnector, createMonitoringStore, type MonitoringConnector } from ".";

/**
 * The monitoring connector against the real service (in-memory regional stores, port 0):
 * the live view, the routers on it, and regional residency — a user without a region gets
 * NOT_FOUND or nothing for that region's sites, devices and alarms, even by direct id.
 */
const WAIT = 20_000;
const LOW = [3.92, 3.92, 2.41, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.91];

let mon: TestMonitoring;
let db: TestDb;
let monitoring: MonitoringConnector;
const health = new UpstreamHealth();
const store = createMonitoringStore(4096);
let admin: SessionUser;
let operator: SessionUser;
let northOperator: SessionUser;
let northViewer: SessionUser;
let trader: SessionUser;
const createCaller = createCallerFactory(appRouter);
const as = (user: SessionUser) => createCaller(makeContext(db.db, user));
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
const firstMessage = async <T>(iterable: AsyncIterable<unknown>) => {
  const it = iterable[Symbol.asyncIterator]();
  const first = await it.next();
  await it.return?.();
  return (first.value as [string, T])[1];
};
let westAlarmId: string;
let northAlarmId: string;
const t0 = Date.now() - 20 * 60_000;

beforeAll(async () => {
  mon = await startTestMonitoring({ regions: ["eu-north", "eu-west"] });
  db = await createTestDb();
  const north = await mon.addSite("N1", "eu-north");
  const west = await mon.addSite("W1", "eu-west");
  // Ten minutes of one pack per site, then a low cell (a critical cell_voltage alarm) on each.
  for (let i = 0; i < 10; i++) {
    for (const [key, id] of [[north, "PMS-N1"], [west, "PMS-W1"]] as const) {
      const r = await mon.post("pms", key, { datasets: [pmsDataset(id, t0 + i * 60_000, { packs: 1 })] }, { query: "?sync=true" });
      expect(r.status).toBe(201);
    }
  }
  for (const [key, id] of [[north, "PMS-N1"], [west, "PMS-W1"]] as const) {
    const r = await mon.post("pms", key, { datasets: [pmsDataset(id, Date.now() - 1000, { packs: 1, cells: LOW })] }, { query: "?sync=true" });
    expect(r.status).toBe(201);
  }
  monitoring = createMonitoringConnector({ client: createMonitoringClient({ baseUrl: mon.url, token: mon.consoleToken }), health, store, downAfterMs: 1500, minBackoffMs: 100, maxBackoffMs: 400 });
  await monitoring.view.ready;
  registerConnector(monitoring);
  admin = await createTestUser(db.db, "admin", { regions: ["eu-north", "eu-west"] });
  operator = await createTestUser(db.db, "operator", { regions: ["eu-north", "eu-west"] });
  northOperator = await createTestUser(db.db, "operator", { regions: ["eu-north"] });
  northViewer = await createTestUser(db.db, "viewer", { regions: ["eu-north"] });
  trader = await createTestUser(db.db, "trader", { regions: [] });
  const cellAlarm = (region: string) => [...store.alarms.values()].find((a) => a.region === region && a.type === "cell_voltage");
  await eventually(() => cellAlarm("eu-north") && cellAlarm("eu-west"), "both cell alarms in the view", WAIT);
  westAlarmId = cellAlarm("eu-west")!.id;
  northAlarmId = cellAlarm("eu-north")!.id;
}, 60_000);

afterAll(async () => {
  unregisterConnector("monitoring");
  await monitoring?.close();
  await mon?.close();
  await db?.close();
});

describe("the monitoring live view", () => {
  it("fills sites, devices, active alarms and flags from the snapshot and follows the feed", async () => {
    await eventually(() => health.get("monitoring")?.state === "connected", `link connected (${JSON.stringify(health.get("monitoring"))})`, WAIT);
    expect(health.get("monitoring")).toMatchObject({ state: "connected", url: mon.url });
    expect(store.sites.get("eu-north/N1")).toMatchObject({ id: "N1", region: "eu-north", devices: 1 });
    expect(store.devices.get("eu-west/PMS-W1")?.values["pack.P001.cell.3.volts"]).toBeCloseTo(2.41);
    // A 2.41 V cell: out of range (critical) and 1.5 V from its neighbours (imbalance, major).
    expect([...store.alarms.values()].map((a) => [a.region, a.type, a.severity]).sort()).toEqual([
      ["eu-north", "cell_imbalance", "major"],
      ["eu-north", "cell_voltage", "critical"],
      ["eu-west", "cell_imbalance", "major"],
      ["eu-west", "cell_voltage", "critical"],
    ]);
    expect(store.flags.get("flags")?.flags.alarms).toBe(true);
    // A new reading arrives through the feed.
    const key = await mon.addSite("N2", "eu-north");
    await mon.post("pms", key, { datasets: [pmsDataset("PMS-N2", Date.now() - 500, { packs: 1 })] }, { query: "?sync=true" });
    await eventually(() => store.devices.get("eu-north/PMS-N2") && store.sites.get("eu-north/N2"), "new device and site through the feed", WAIT);
  });

  it("is off when MONITORING_URL is unset or off, and routers then say the connector is not running", async () => {
    expect(connectMonitoring(health, loadEnv({ NODE_ENV: "test" }))).toBeNull();
    expect(connectMonitoring(health, loadEnv({ NODE_ENV: "test", MONITORING_URL: "off" }))).toBeNull();
    unregisterConnector("monitoring");
    try {
      const error = await as(northViewer).monitoring.regions().catch((e: unknown) => e);
      expect((error as TRPCError).code).toBe("PRECONDITION_FAILED");
      expect((error as TRPCError).message).toMatch(/monitoring connector is not running/);
    } finally {
      registerConnector(monitoring);
    }
  });
});

describe("regional residency", () => {
  it("lists only the user's regions and their sites, live", async () => {
    expect((await as(northViewer).monitoring.regions()).items.map((r) => r.region)).toEqual(["eu-north"]);
    expect((await as(admin).monitoring.regions()).items.map((r) => r.region).sort()).toEqual(["eu-north", "eu-west"]);
    const sites = await firstMessage<{ kind: string; items: { id: string; region: string }[] }>(await as(northViewer).monitoring.sites.onChange());
    expect(sites.kind).toBe("snapshot");
    expect(sites.items.length).toBeGreaterThan(0);
    expect(sites.items.every((s) => s.region === "eu-north")).toBe(true);
    // Asking for the other region by name streams nothing of it.
    const west = await firstMessage<{ items: unknown[] }>(await as(northViewer).monitoring.sites.onChange({ region: "eu-west" }));
    expect(west.items).toEqual([]);
    const alarms = await firstMessage<{ items: { region: string }[] }>(await as(northViewer).monitoring.alarms.onChange());
    expect(new Set(alarms.items.map((a) => a.region))).toEqual(new Set(["eu-north"]));
    const devices = await firstMessage<{ items: unknown[] }>(await as(northViewer).monitoring.devices.onChange({ region: "eu-west" }));
    expect(devices.items).toEqual([]);
  });

  it("answers another region's site, device, series and alarms with NOT_FOUND or nothing, even by direct id", async () => {
    const v = as(northViewer);
    expect(await codeOf(v.monitoring.sites.get({ region: "eu-west", site: "W1" }))).toBe("NOT_FOUND");
    expect(await codeOf(v.monitoring.sites.get({ region: "eu-north", site: "W1" }))).toBe("NOT_FOUND");
    expect(await codeOf(v.monitoring.devices.get({ region: "eu-west", device: "PMS-W1" }))).toBe("NOT_FOUND");
    expect(await codeOf(v.monitoring.devices.get({ region: "eu-north", device: "PMS-W1" }))).toBe("NOT_FOUND");
    expect(await codeOf(v.monitoring.devices.series({ region: "eu-west", device: "PMS-W1", metrics: ["pack.P001.volts"], from: t0 }))).toBe("NOT_FOUND");
    expect((await v.monitoring.alarms.list({ region: "eu-west", status: "all" })).items).toEqual([]);
    expect((await v.monitoring.alarms.list({ status: "all" })).items.every((a) => a.region === "eu-north")).toBe(true);
    const o = as(northOperator);
    expect(await codeOf(o.monitoring.alarms.acknowledge({ region: "eu-west", alarmId: westAlarmId, idempotencyKey: "ack-west-0001" }))).toBe("NOT_FOUND");
    // Naming an allowed region does not reach an alarm of another one.
    expect(await codeOf(o.monitoring.alarms.acknowledge({ region: "eu-north", alarmId: westAlarmId, idempotencyKey: "ack-west-0002" }))).toBe("NOT_FOUND");
    expect(await db.db.command.count({ where: { actorId: northOperator.id } })).toBe(0);
    // The same reads work for a user with the region.
    expect((await as(operator).monitoring.sites.get({ region: "eu-west", site: "W1" })).devices.map((d) => d.id)).toEqual(["PMS-W1"]);
  });

  it("answers unknown and malformed ids with NOT_FOUND", async () => {
    const v = as(operator);
    for (const site of ["NOPE", "../x", "x".repeat(300)]) expect(await codeOf(v.monitoring.sites.get({ region: "eu-north", site }))).toBe("NOT_FOUND");
    for (const device of ["NOPE", "a/b", "%E0%A4%A"]) expect(await codeOf(v.monitoring.devices.get({ region: "eu-north", device }))).toBe("NOT_FOUND");
    expect(await codeOf(v.monitoring.sites.get({ region: "mars-1", site: "N1" }))).toBe("NOT_FOUND");
    for (const alarmId of ["nope", "00000000-0000-4000-8000-000000000000"]) {
      expect(await codeOf(v.monitoring.alarms.acknowledge({ region: "eu-north", alarmId, idempotencyKey: `ack-${alarmId.slice(0, 8)}-x` }))).toBe("NOT_FOUND");
    }
  });
});

describe("monitoring reads", () => {
  it("reads a device and a series with min / avg / max, at most `width` points", async () => {
    const v = as(northViewer);
    const d = await v.monitoring.devices.get({ region: "eu-north", device: "PMS-N1" });
    expect(d.metrics).toContain("pack.P001.cell.3.volts");
    expect(d.alarms.map((a) => a.type).sort()).toEqual(["cell_imbalance", "cell_voltage"]);
    const s = await v.monitoring.devices.series({ region: "eu-north", device: "PMS-N1", metrics: ["pack.P001.cell.3.volts", "pack.P001.cell.1.volts"], from: t0 - 60_000, width: 20 });
    expect(s.granularity).toBe("1m");
    const cell3 = s.series.find((x) => x.metric === "pack.P001.cell.3.volts")!;
    expect(cell3.points.length).toBeGreaterThan(0);
    expect(cell3.points.length).toBeLessThanOrEqual(20);
    expect(Math.min(...cell3.points.map((p) => p.min))).toBeCloseTo(2.41);
    expect(Math.max(...cell3.points.map((p) => p.max))).toBeCloseTo(3.92);
  });

  it("reads a site's energy per day and per hour, in its region only", async () => {
    const days = await as(northViewer).monitoring.sites.energy({ region: "eu-north", site: "N1" });
    expect(days).toMatchObject({ site: "N1", period: "day", unit: "MJ" });
    expect(days.items).toHaveLength(7);
    expect(new Date(days.items.at(-1)!.to).getTime()).toBeGreaterThan(Date.now());
    expect((await as(northViewer).monitoring.sites.energy({ region: "eu-north", site: "N1", period: "hour" })).items).toHaveLength(6);
    expect(await codeOf(as(northViewer).monitoring.sites.energy({ region: "eu-west", site: "W1" }))).toBe("NOT_FOUND");
  });

  it("pages alarms across regions, newest first", async () => {
    const all = (await as(operator).monitoring.alarms.list({ status: "all", limit: 200 })).items;
    expect(all.length).toBe(4);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await as(operator).monitoring.alarms.list({ status: "all", limit: 3, cursor });
      seen.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((a) => a.id));
    expect(new Set(all.map((a) => a.region))).toEqual(new Set(["eu-north", "eu-west"]));
    expect(await codeOf(as(operator).monitoring.alarms.list({ status: "all", cursor: "garbage!" }))).toBe("BAD_REQUEST");
  });
});

describe("permissions, for every role", () => {
  it("reads for every role but traders; acts for admin, operator and support; flags for admins only", async () => {
    const expected = {
      admin: { read: "OK", act: "CONFLICT", flags: "OK" },
      operator: { read: "OK", act: "CONFLICT", flags: "FORBIDDEN" },
      support: { read: "OK", act: "CONFLICT", flags: "FORBIDDEN" },
      viewer: { read: "OK", act: "FORBIDDEN", flags: "FORBIDDEN" },
      trader: { read: "FORBIDDEN", act: "FORBIDDEN", flags: "FORBIDDEN" },
    } as const;
    // An acknowledged alarm: acting again is a CONFLICT for roles that may act, and nothing is stored.
    const alarm = [...store.alarms.values()].find((a) => a.region === "eu-west" && a.type === "cell_imbalance")!;
    await as(operator).monitoring.alarms.acknowledge({ region: "eu-west", alarmId: alarm.id, idempotencyKey: "ack-matrix-0001" });
    for (const [role, want] of Object.entries(expected)) {
      const user = await createTestUser(db.db, role as keyof typeof expected, { regions: ["eu-north", "eu-west"] });
      const caller = as(user);
      expect([role, await codeOf(caller.monitoring.sites.get({ region: "eu-west", site: "W1" }))]).toEqual([role, want.read]);
      expect([role, await codeOf(caller.monitoring.alarms.acknowledge({ region: "eu-west", alarmId: alarm.id, idempotencyKey: `ack-matrix-${role}` }))]).toEqual([role, want.act]);
      expect([role, await codeOf(caller.monitoring.flags.get())]).toEqual([role, want.flags]);
      expect(await db.db.command.count({ where: { actorId: user.id } })).toBe(0);
    }
  });
});

describe("alarm actions and flags", () => {
  it("refuses bad input with BAD_REQUEST and sends nothing", async () => {
    const before = await db.db.command.count();
    const o = as(operator);
    expect(await codeOf(o.monitoring.alarms.acknowledge({ region: "eu-north", alarmId: northAlarmId, idempotencyKey: "short" }))).toBe("BAD_REQUEST");
    expect(await codeOf(o.monitoring.alarms.acknowledge({ region: "eu-north", alarmId: northAlarmId, comment: "x".repeat(501), idempotencyKey: "ack-long-comment" }))).toBe("BAD_REQUEST");
    expect(await codeOf(o.monitoring.devices.series({ region: "eu-north", device: "PMS-N1", metrics: [], from: t0 }))).toBe("BAD_REQUEST");
    expect(await codeOf(o.monitoring.devices.series({ region: "eu-north", device: "PMS-N1", metrics: ["a b"], from: t0 }))).toBe("BAD_REQUEST");
    expect(await codeOf(o.monitoring.devices.series({ region: "eu-north", device: "PMS-N1", metrics: ["battery.volts"], from: t0, to: t0 - 1 }))).toBe("BAD_REQUEST");
    expect(await codeOf(o.monitoring.devices.series({ region: "eu-north", device: "PMS-N1", metrics: ["battery.volts"], from: t0, width: 5 }))).toBe("BAD_REQUEST");
    expect(await codeOf(as(admin).monitoring.flags.set({ name: "nope" as "alarms", enabled: true, idempotencyKey: "flag-bad-0001" }))).toBe("BAD_REQUEST");
    expect(await db.db.command.count()).toBe(before);
  });

  it("lets operators acknowledge and clear (Command row, outcome, audit, actor and comment upstream); viewers and traders may not", async () => {
    expect(await codeOf(as(northViewer).monitoring.alarms.acknowledge({ region: "eu-north", alarmId: northAlarmId, idempotencyKey: "ack-viewer-0001" }))).toBe("FORBIDDEN");
    expect(await codeOf(as(trader).monitoring.alarms.list({}))).toBe("FORBIDDEN");
    const { command } = await as(northOperator).monitoring.alarms.acknowledge({ region: "eu-north", alarmId: northAlarmId, comment: "on it", idempotencyKey: "ack-north-0001" });
    expect(command).toMatchObject({ domain: "monitoring", target: northAlarmId, action: "alarm.acknowledge", status: "accepted" });
    expect(command.result).toMatchObject({ id: northAlarmId, acknowledged: true, acknowledgedBy: northOperator.email, ackComment: "on it" });
    await eventually(() => store.alarms.get(northAlarmId)?.acknowledged, "acknowledged through the feed", WAIT);
    // Twice is a conflict, said in words, and stores nothing.
    const again = await as(northOperator).monitoring.alarms.acknowledge({ region: "eu-north", alarmId: northAlarmId, idempotencyKey: "ack-north-0002" }).catch((e: unknown) => e);
    expect((again as TRPCError).code).toBe("CONFLICT");
    expect((again as TRPCError).message).toMatch(/already acknowledged by/);
    const cleared = await as(northOperator).monitoring.alarms.clear({ region: "eu-north", alarmId: northAlarmId, comment: "replaced the cell", idempotencyKey: "clear-north-0001" });
    expect(cleared.command.status).toBe("accepted");
    await eventually(() => !store.alarms.has(northAlarmId), "cleared alarm leaves the active set", WAIT);
    const listed = await as(northOperator).monitoring.alarms.list({ status: "cleared" });
    expect(listed.items.find((a) => a.id === northAlarmId)).toMatchObject({ clearedBy: northOperator.email, clearComment: "replaced the cell", status: "cleared_ack" });
    const audit = await db.db.auditEntry.findMany({ where: { actorId: northOperator.id, target: northAlarmId }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.outcome])).toEqual(
      expect.arrayContaining([
        ["monitoring.alarms.acknowledge", "ok"],
        ["command.monitoring.alarm.acknowledge.outcome", "ok"],
        ["monitoring.alarms.acknowledge", "error"],
        ["monitoring.alarms.clear", "ok"],
        ["command.monitoring.alarm.clear.outcome", "ok"],
      ]),
    );
  });

  it("keeps feature flags for admins: read, set (audited), applied and streamed", async () => {
    expect(await codeOf(as(operator).monitoring.flags.get())).toBe("FORBIDDEN");
    expect(await codeOf(as(operator).monitoring.flags.set({ name: "publish", enabled: true, idempotencyKey: "flag-op-00001" }))).toBe("FORBIDDEN");
    const before = await as(admin).monitoring.flags.get();
    expect(before.message.flags.publish).toBe(false);
    expect(before.catalogue.map((f) => f.name)).toContain("publish");
    const { command } = await as(admin).monitoring.flags.set({ name: "publish", enabled: true, idempotencyKey: "flag-publish-01" });
    expect(command).toMatchObject({ status: "accepted", action: "flag.set", target: "flag:publish" });
    expect((await as(admin).monitoring.flags.get()).message).toMatchObject({ flags: { publish: true }, updatedBy: admin.email });
    await eventually(() => store.flags.get("flags")?.flags.publish, "flags through the feed", WAIT);
    const audit = await db.db.auditEntry.findMany({ where: { actorId: admin.id, target: "flag:publish" }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.outcome]).sort()).toEqual([
      ["command.monitoring.flag.set.outcome", "ok"],
      ["monitoring.flags.set", "ok"],
    ]);
  });
});
