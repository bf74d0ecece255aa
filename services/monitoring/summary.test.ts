import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse } from "../../lib/sse";
import { eventually, inverterDataset, mpptDataset, pmsDataset, startTestMonitoring, type TestMonitoring } from "./testkit";

let m: TestMonitoring;
let northKey: string;
let westKey: string;
const minute = 60_000;
const base = () => Math.floor((Date.now() - 3 * 86_400_000) / 86_400_000) * 86_400_000;

beforeAll(async () => {
  m = await startTestMonitoring({ silentIntervals: 2, reportIntervalMs: 500 });
  northKey = await m.addSite("north-1", "eu-north");
  westKey = await m.addSite("west-1", "eu-west");
});
afterAll(async () => m?.close());

const sync = (dataset: string, key: string, datasets: unknown[]) => m.post(dataset, key, { datasets }, { query: "?sync=true" });

describe("summary API", () => {
  it("serves rollups at the chart's width, merges late data, and includes the still-open bucket", async () => {
    const t0 = base();
    // Two readings a minute apart, then a late one into the first minute.
    expect((await sync("mppt", northKey, [mpptDataset("M-R", t0 + 10_000, { pvAmps: 2 })])).status).toBe(201);
    expect((await sync("mppt", northKey, [mpptDataset("M-R", t0 + minute + 5_000, { pvAmps: 4 })])).status).toBe(201);
    await m.service.flush();
    expect((await sync("mppt", northKey, [mpptDataset("M-R", t0 + 1_000, { pvAmps: 6 })])).status).toBe(201);
    // Not flushed yet: the answer must still include it (pending deltas).
    const r = await m.summary(`/api/v1/regions/eu-north/devices/M-R/series?metrics=pv.1.amps,pv.watts&from=${t0}&to=${t0 + 10 * minute}&width=100`);
    expect(r.status).toBe(200);
    expect(r.json.granularity).toBe("1m");
    const amps = r.json.series[0].points;
    expect(amps[0]).toMatchObject({ t: t0, count: 2, min: 2, max: 6, first: 6, last: 2, avg: 4 });
    expect(amps[1]).toMatchObject({ t: t0 + minute, count: 1, avg: 4 });
    await m.service.flush();
    const day = await m.summary(`/api/v1/regions/eu-north/devices/M-R/series?metrics=pv.1.amps&from=${t0}&to=${t0 + 30 * 86_400_000}&width=800`);
    expect(day.json.granularity).toBe("1h");
    expect(day.json.series[0].points[0]).toMatchObject({ t: t0, count: 3, min: 2, max: 6 });
    // Never more points than the width.
    const wide = await m.summary(`/api/v1/regions/eu-north/devices/M-R/series?metrics=pv.1.amps&from=${t0 - 3000 * 86_400_000}&to=${t0 + 86_400_000}&width=50`);
    expect(wide.json.series[0].points.length).toBeLessThanOrEqual(50);
  });

  it("never returns raw rows, and refuses regions the user may not see", async () => {
    expect((await m.summary("/api/v1/regions/eu-west/sites", { regions: "eu-north" })).status).toBe(403);
    expect((await m.summary("/api/v1/regions/eu-west/sites", { regions: "eu-west" })).status).toBe(200);
    expect((await m.call("GET", "/api/v1/regions/eu-north/sites")).status).toBe(401);
    const regions = await m.summary("/api/v1/regions", { regions: "eu-north" });
    expect(regions.json.items.map((r: { region: string }) => r.region)).toEqual(["eu-north"]);
    // A device of eu-west is not found through eu-north: no query crosses regions.
    expect((await sync("inverter", westKey, [inverterDataset("INV-W", Date.now() - 1000)])).status).toBe(201);
    expect((await m.summary("/api/v1/regions/eu-north/devices/INV-W", { regions: "*" })).status).toBe(404);
    const dev = await m.summary("/api/v1/regions/eu-west/devices/INV-W", { regions: "eu-west" });
    expect(dev.json.device).toMatchObject({ id: "INV-W", site: "west-1", dataset: "inverter", online: true });
    expect(dev.json.device.values["grid.1.watts"]).toBeCloseTo(91.785, 3);
  });

  it("raises one alarm per device and type, escalates it, and lets an operator acknowledge and clear it", async () => {
    const t = Date.now() - 30_000;
    const low = [2.95, ...Array(13).fill(3.9)];
    await sync("pms", northKey, [pmsDataset("PMS-A", t, { cells: low })]);
    await sync("pms", northKey, [pmsDataset("PMS-A", t + 1000, { cells: [2.5, ...Array(13).fill(3.9)] })]);
    const list = await m.summary("/api/v1/regions/eu-north/alarms?device=PMS-A&status=active");
    const cell = list.json.items.filter((a: { type: string }) => a.type === "cell_voltage");
    expect(cell).toHaveLength(1);
    expect(cell[0]).toMatchObject({ severity: "critical", status: "active_unack", site: "north-1" });
    expect(cell[0].details).toMatchObject({ pack: "P001" });
    const ack = await m.summary(`/api/v1/regions/eu-north/alarms/${cell[0].id}/acknowledge`, { method: "POST", body: { comment: "looking" }, actor: "alice@ops" });
    expect(ack.json).toMatchObject({ status: "active_ack", acknowledgedBy: "alice@ops", ackComment: "looking" });
    expect((await m.summary(`/api/v1/regions/eu-north/alarms/${cell[0].id}/acknowledge`, { method: "POST", body: {} })).status).toBe(409);
    // Another region cannot touch it.
    expect((await m.summary(`/api/v1/regions/eu-west/alarms/${cell[0].id}/clear`, { method: "POST", body: {} })).status).toBe(404);
    const cleared = await m.summary(`/api/v1/regions/eu-north/alarms/${cell[0].id}/clear`, { method: "POST", body: { comment: "cell replaced" }, actor: "bob@ops" });
    expect(cleared.json).toMatchObject({ status: "cleared_ack", active: false, clearedBy: "bob@ops", clearComment: "cell replaced" });
    // One alarm by id, cleared ones too, only in its own region (and the user's).
    expect((await m.summary(`/api/v1/regions/eu-north/alarms/${cell[0].id}`)).json).toMatchObject({ id: cell[0].id, status: "cleared_ack", clearedBy: "bob@ops" });
    expect((await m.summary(`/api/v1/regions/eu-west/alarms/${cell[0].id}`)).status).toBe(404);
    expect((await m.summary(`/api/v1/regions/eu-north/alarms/${cell[0].id}`, { regions: "eu-west" })).status).toBe(403);
    expect((await m.summary("/api/v1/regions/eu-north/alarms/no-such-alarm")).status).toBe(404);
    // Healthy again, then a new fault: a new alarm, not the cleared one.
    await sync("pms", northKey, [pmsDataset("PMS-A", t + 2000)]);
    await sync("pms", northKey, [pmsDataset("PMS-A", t + 3000, { cells: low })]);
    const again = await m.summary("/api/v1/regions/eu-north/alarms?device=PMS-A&status=active");
    const fresh = again.json.items.filter((a: { type: string }) => a.type === "cell_voltage");
    expect(fresh).toHaveLength(1);
    expect(fresh[0].id).not.toBe(cell[0].id);
    // The condition ending clears it by itself.
    await sync("pms", northKey, [pmsDataset("PMS-A", t + 4000)]);
    const after = await m.summary("/api/v1/regions/eu-north/alarms?device=PMS-A&status=active");
    expect(after.json.items.filter((a: { type: string }) => a.type === "cell_voltage")).toHaveLength(0);
  });

  it("decodes mppt fault bits into an alarm and counts alarms per site", async () => {
    await sync("mppt", northKey, [mpptDataset("M-F", Date.now() - 5000, { code: "1009" })]);
    const alarms = await m.summary("/api/v1/regions/eu-north/alarms?device=M-F");
    expect(alarms.json.items[0]).toMatchObject({ type: "mppt_fault", severity: "critical" });
    const sites = await m.summary("/api/v1/regions/eu-north/sites");
    const site = sites.json.items.find((s: { id: string }) => s.id === "north-1");
    expect(site.alarms.critical).toBeGreaterThanOrEqual(1);
  });

  it("raises device_silent when a device misses its reports", async () => {
    await sync("mppt", northKey, [mpptDataset("M-SILENT", Date.now() - 1000)]);
    const silent = await eventually(async () => {
      const r = await m.summary("/api/v1/regions/eu-north/alarms?device=M-SILENT&status=active");
      return r.json.items.find((a: { type: string }) => a.type === "device_silent");
    }, "silent alarm");
    expect(silent.severity).toBe("warning");
  });

  it("sums energy per period from the rollups", async () => {
    const t0 = base() + 86_400_000;
    // 6 A × 48 V × 2 strings = 576 W of PV for the minute buckets of one hour.
    const datasets = Array.from({ length: 60 }, (_, i) => mpptDataset("M-E", t0 + i * minute + 1000));
    expect((await sync("mppt", northKey, datasets)).status).toBe(201);
    await m.service.flush();
    const epoch = new Date(t0).toISOString().slice(0, 10).replace(/-/g, "");
    const r = await m.summary(`/api/v1/regions/eu-north/sites/north-1/energy?energy=harvest&period=hour&epoch=${epoch}T0000Z&duration=1`);
    expect(r.status).toBe(200);
    expect(r.json.items[0].values.harvest).toBeCloseTo((576 * 3600) / 1e6, 3);
  });

  it("streams device and alarm changes, resumes with Last-Event-ID and resyncs an unknown one", async () => {
    const open = async (lastEventId?: string) => {
      const controller = new AbortController();
      const res = await fetch(`${m.url}/api/v1/events`, { headers: { authorization: `Bearer ${m.consoleToken}`, "x-switchyard-regions": "eu-west", ...(lastEventId ? { "last-event-id": lastEventId } : {}) }, signal: controller.signal });
      const events: { id: string | null; event: string; data: string }[] = [];
      void readSse(res.body!, (e) => void events.push(e)).catch(() => {});
      return { events, close: () => controller.abort() };
    };
    const a = await open();
    await sync("inverter", westKey, [inverterDataset("INV-FEED", Date.now() - 1000, { code: "0000" })]);
    await sync("mppt", northKey, [mpptDataset("M-NORTH-ONLY", Date.now() - 1000)]);
    const device = await eventually(() => a.events.find((e) => e.event === "device" && JSON.parse(e.data).id === "INV-FEED"), "device event");
    const alarm = await eventually(() => a.events.find((e) => e.event === "alarm" && JSON.parse(e.data).device === "INV-FEED"), "alarm event");
    expect(JSON.parse(alarm.data).type).toBe("inverter_fault");
    a.close();
    // A user of eu-west never sees eu-north's devices.
    expect(a.events.some((e) => e.data.includes("M-NORTH-ONLY"))).toBe(false);
    const b = await open(alarm.id! < device.id! ? alarm.id! : device.id!);
    await eventually(() => b.events.length > 0, "replay");
    b.close();
    const c = await open("deadbeef.1");
    const first = await eventually(() => c.events[0], "resync");
    expect(first.event).toBe("resync");
    c.close();
    const snap = await m.summary("/api/v1/snapshot", { regions: "eu-west" });
    expect(snap.json.devices.every((d: { region: string }) => d.region === "eu-west")).toBe(true);
    expect(snap.json.flags.flags).toMatchObject({ alarms: true });
  });

  it("applies feature flags live: alarms off → no new alarms", async () => {
    const off = await m.summary("/api/v1/flags/alarms", { method: "PUT", body: { enabled: false }, actor: "admin@ops" });
    expect(off.json).toMatchObject({ flags: { alarms: false }, updatedBy: "admin@ops" });
    await sync("mppt", northKey, [mpptDataset("M-NOFLAG", Date.now() - 1000, { code: "1009" })]);
    const none = await m.summary("/api/v1/regions/eu-north/alarms?device=M-NOFLAG");
    expect(none.json.items).toHaveLength(0);
    await m.summary("/api/v1/flags/alarms", { method: "PUT", body: { enabled: true } });
    await sync("mppt", northKey, [mpptDataset("M-NOFLAG", Date.now() - 500, { code: "1009" })]);
    expect((await m.summary("/api/v1/regions/eu-north/alarms?device=M-NOFLAG")).json.items).toHaveLength(1);
    expect((await m.summary("/api/v1/flags/nope", { method: "PUT", body: { enabled: true } })).status).toBe(404);
  });

  it("audits summary and raw reads", async () => {
    await m.service.flush();
    const rt = m.service.core.regions.get("eu-north")!;
    const { rows } = await rt.store.read.query<{ api: string; actor: string; action: string }>(`SELECT api, actor, action FROM "monitoring"."audit" WHERE api = 'summary'`);
    expect(rows.some((r) => r.action === "alarms.acknowledge" && r.actor === "alice@ops")).toBe(true);
    await expect(rt.store.write.query(`DELETE FROM "monitoring"."audit"`)).rejects.toThrow(/append-only/);
  });
});
