import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { datasetsToCsv } from "../../contracts/monitoring";
import { eventually, inverterDataset, mpptDataset, pmsDataset, startTestMonitoring, type TestMonitoring } from "./testkit";

let m: TestMonitoring;
let key: string;
let rawKey: string;
const recent = () => Date.now() - 60_000;

beforeAll(async () => {
  m = await startTestMonitoring();
  key = await m.addSite("site-a", "eu-north");
  const r = await m.admin("POST", "/api/v1/admin/keys", { kind: "raw", name: "analytics", regions: ["eu-north"] });
  rawKey = r.json.key;
});
afterAll(async () => m?.close());

const rawRead = (device: string, dataset: string, t: number) =>
  m.call("GET", `/device/${device}/dataset/${dataset}/period/hour/${new Date(t).toISOString().slice(0, 13).replace(/-/g, "")}Z/1`.replace(/(\d{8})(\d{2})Z/, "$1T$2Z"), { headers: { "x-api-key": rawKey } });

describe("POST /devices/dataset/:dataset", () => {
  it("queues the Sundaya examples (200) and stores one record per data item with derived fields", async () => {
    const t = recent();
    const res = await m.post("pms", key, { datasets: [pmsDataset("PMS-01-001", t)] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "200", message: "ok", details: [{ message: "Data queued for processing." }] });
    expect((await m.post("mppt", key, { datasets: [mpptDataset("MPPT-01", t, { code: "2401" })] })).status).toBe(200);
    expect((await m.post("inverter", key, { datasets: [inverterDataset("INV-01", t)] })).status).toBe(200);
    const pms = await eventually(async () => {
      const r = await rawRead("PMS-01-001", "pms", t);
      return r.json?.items?.length === 4 ? r.json : undefined;
    }, "pms records");
    const first = pms.items.find((x: { pack_id: string }) => x.pack_id === "P001");
    expect(first.pack.volts).toBeCloseTo(3.92 * 13 + 3.91, 4);
    expect(first.pack.vcl).toBe(3.91);
    expect(first.pack.vch).toBe(3.92);
    expect(first.cell[0]).toEqual({ volts: 3.92, dvcl: 10, open: false });
    expect(first.fet).toEqual([{ open: true, temp: 34.1 }, { open: true, temp: 32.2 }]);
    expect(first.time_zone).toBe("+07:00");
    expect(first.sender).toBe("S-site-a");
    const inv = await eventually(async () => (await rawRead("INV-01", "inverter", t)).json?.items?.[0], "inverter record");
    expect(inv.grid[0].watts).toBeCloseTo(91.785, 3);
    const mppt = await eventually(async () => (await rawRead("MPPT-01", "mppt", t)).json?.items?.[0], "mppt record");
    expect(mppt.status).toMatchObject({ bus_connect: true, charging: "boost", standby: "running" });
    expect(mppt.pv[0]).toEqual({ volts: 48, amps: 6, watts: 288 });
  });

  it("accepts CSV with flattened columns for every dataset", async () => {
    const t = recent() + 1000;
    const csv = datasetsToCsv("pms", [pmsDataset("PMS-CSV", t, { packs: 2 })]);
    expect((await m.post("pms", key, csv, { csv: true })).status).toBe(200);
    expect((await m.post("inverter", key, datasetsToCsv("inverter", [inverterDataset("INV-CSV", t)]), { csv: true })).status).toBe(200);
    await eventually(async () => (await rawRead("PMS-CSV", "pms", t)).json?.items?.length === 2, "csv pms stored");
    await eventually(async () => (await rawRead("INV-CSV", "inverter", t)).json?.items?.length === 1, "csv inverter stored");
  });

  it("answers 201 with a Location per device when synchronous", async () => {
    const t = recent() + 2000;
    const res = await m.post("mppt", key, { datasets: [mpptDataset("MPPT-S1", t), mpptDataset("MPPT-S2", t)] }, { query: "?sync=true" });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toContain("/device/MPPT-S1/dataset/mppt/period/minute/");
    expect(res.json.details).toHaveLength(2);
    // Stored means readable at once.
    expect((await rawRead("MPPT-S2", "mppt", t)).json.items).toHaveLength(1);
  });

  it("refuses unknown or missing keys, wrong datasets, bad media types and oversized bodies", async () => {
    expect((await m.post("pms", undefined, { datasets: [] })).status).toBe(401);
    expect((await m.post("pms", "not-a-key", { datasets: [] })).status).toBe(401);
    expect((await m.post("PMS", key, { datasets: [] })).status).toBe(404);
    expect((await m.call("POST", "/devices/dataset/pms", { raw: "x", headers: { "x-api-key": key, "content-type": "text/plain" } })).status).toBe(415);
    const big = "x".repeat(1024 * 1024 + 10);
    expect((await m.post("pms", key, big)).status).toBe(413);
    expect((await m.post("pms", key, "{not json")).status).toBe(400);
    expect((await m.post("pms", key, "pms_id,status.code\n1,0001\n", { csv: true })).json.fields[0]).toEqual({ path: "columns.status.temp", message: "is required" });
  });

  it("lists every bad field with its path, stores the valid records and nothing of the invalid ones", async () => {
    const t = recent() + 3000;
    const bad = pmsDataset("PMS-BAD", t, { packs: 3 }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    bad.data[1].pack.dock = 49;
    bad.data[1].pack.cell.volts = [3.9];
    bad.data[2].pack.extra = 1;
    const noOffset = pmsDataset("PMS-BAD2", t, { packs: 1 }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    noOffset.data[0].time_local = noOffset.data[0].time_local.slice(0, -5);
    const future = pmsDataset("PMS-BAD3", Date.now() + 3_600_000, { packs: 1 });
    const res = await m.post("pms", key, { datasets: [bad, noOffset, future] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "invalid_input", accepted: 1, rejected: 4 });
    const paths = res.json.fields.map((f: { path: string; message: string }) => `${f.path}: ${f.message}`);
    expect(paths).toContain("datasets[0].data[1].pack.dock: must be ≤ 48");
    expect(paths).toContain("datasets[0].data[1].pack.cell.volts: must have exactly 14 items");
    expect(paths).toContain("datasets[0].data[2].pack.extra: is not a known field");
    expect(paths.some((p: string) => p.startsWith("datasets[1].data[0].time_local: needs a UTC offset"))).toBe(true);
    expect(paths.some((p: string) => p.startsWith("datasets[2].data[0].time_local: is ") && p.includes("in the future"))).toBe(true);
    await m.service.flush();
    const stored = await eventually(async () => (await rawRead("PMS-BAD", "pms", t)).json?.items, "valid pack stored");
    expect(stored.map((r: { pack_id: string }) => r.pack_id)).toEqual(["P001"]);
  });

  it("names the CSV line and column of a bad cell", async () => {
    const t = recent() + 4000;
    const csv = datasetsToCsv("pms", [pmsDataset("PMS-CSVBAD", t, { packs: 2 })]).replace(/\n([^\n]*)\n$/, (_, line: string) => `\n${line.replace(",2,-1.601,", ",77,-1.601,")}\n`);
    const res = await m.post("pms", key, csv, { csv: true });
    expect(res.status).toBe(400);
    expect(res.json.fields).toContainEqual({ path: "line[3].pack.dock", message: "must be ≤ 48" });
    expect(res.json.accepted).toBe(1);
  });

  it("stores duplicates and replays once", async () => {
    const t = recent() + 5000;
    const body = { datasets: [mpptDataset("MPPT-DUP", t), mpptDataset("MPPT-DUP", t)] };
    expect((await m.post("mppt", key, body, { query: "?sync=true" })).status).toBe(201);
    expect((await m.post("mppt", key, body, { query: "?sync=true" })).status).toBe(201);
    expect((await rawRead("MPPT-DUP", "mppt", t)).json.items).toHaveLength(1);
    await m.service.flush();
    const rt = m.service.core.regions.get("eu-north")!;
    const { rows } = await rt.store.read.query<{ count: number }>(`SELECT count FROM "monitoring"."rollup_1m" WHERE device = 'MPPT-DUP' AND metric = 'battery.volts'`);
    expect(rows).toEqual([{ count: 1 }]);
  });

  it("gives a flooding sender 429 while another sender's requests all succeed", async () => {
    const quietKey = await m.addSite("site-quiet", "eu-north");
    const r = await m.admin("POST", "/api/v1/admin/keys", { kind: "ingest", site: "site-a", sender: "FLOOD", ratePerSecond: 5 });
    const floodKey = r.json.key;
    const t = recent() + 6000;
    const flood = Array.from({ length: 40 }, (_, i) => m.post("mppt", floodKey, { datasets: [mpptDataset(`FLOOD-${i}`, t)] }));
    const quiet = Array.from({ length: 10 }, (_, i) => m.post("mppt", quietKey, { datasets: [mpptDataset(`QUIET-${i}`, t)] }));
    const floodStatuses = (await Promise.all(flood)).map((x) => x.status);
    const quietStatuses = (await Promise.all(quiet)).map((x) => x.status);
    expect(floodStatuses).toContain(429);
    expect(quietStatuses.every((s) => s === 200)).toBe(true);
  });
});

describe("raw-data API", () => {
  it("pages, answers CSV, and keeps a key to its regions", async () => {
    const t = recent() + 7000;
    const datasets = Array.from({ length: 5 }, (_, i) => mpptDataset("MPPT-PAGE", t + i * 1000));
    expect((await m.post("mppt", key, { datasets }, { query: "?sync=true" })).status).toBe(201);
    const hour = new Date(t).toISOString().slice(0, 13).replace(/-/g, "").replace(/(\d{8})(\d{2})/, "$1T$2");
    const path = `/device/MPPT-PAGE/dataset/mppt/period/hour/${hour}Z/1`;
    const first = await m.call("GET", `${path}?limit=2`, { headers: { "x-api-key": rawKey } });
    expect(first.json.items).toHaveLength(2);
    const second = await m.call("GET", `${path}?limit=2&cursor=${first.json.nextCursor}`, { headers: { "x-api-key": rawKey } });
    expect(second.json.items[0].time_event > first.json.items[1].time_event).toBe(true);
    const csv = await m.call("GET", `${path}?format=csv`, { headers: { "x-api-key": rawKey } });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const [header, ...lines] = csv.text.trim().split("\n");
    expect(header.split(",")).toEqual(expect.arrayContaining(["mppt_id", "pv.1.volts", "battery.watts", "status.charging", "time_event"]));
    expect(lines).toHaveLength(5);
    // The key reads eu-north only.
    expect((await m.call("GET", `${path}?region=eu-west`, { headers: { "x-api-key": rawKey } })).status).toBe(403);
    expect((await m.call("GET", path, { headers: { "x-api-key": key } })).status).toBe(401);
    expect((await m.call("GET", `/device/MPPT-PAGE/dataset/mppt/period/day/${hour}Z/99`, { headers: { "x-api-key": rawKey } })).json.fields[0]).toMatchObject({ path: "duration" });
    const energy = await m.call("GET", `/energy/hsy/period/hour/${hour}Z/1?site=site-a`, { headers: { "x-api-key": rawKey } });
    expect(energy.status).toBe(200);
    expect(Object.keys(energy.json.items[0].values)).toEqual(["harvest", "store.in", "store.out", "yield", "sell", "buy"]);
  });
});
