import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mpptDataset, startTestMonitoring, type TestMonitoring } from "../testkit";

/** A hostile client against the monitoring service's ingest, raw-data and summary APIs. */
let m: TestMonitoring;
let key: string;
let rawKey: string;
let otherSiteKey: string;
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

beforeAll(async () => {
  m = await startTestMonitoring();
  key = await m.addSite("site-h", "eu-north");
  otherSiteKey = await m.addSite("site-other", "eu-north");
  rawKey = (await m.admin("POST", "/api/v1/admin/keys", { kind: "raw", name: "hostile", regions: ["eu-north"] })).json.key;
});
afterAll(async () => m?.close());

describe("monitoring under attack", () => {
  it("answers a forged raw-data cursor with 400, never a 500", async () => {
    const t = Date.now() - 60_000;
    expect((await m.post("mppt", key, { datasets: [mpptDataset("MPPT-H", t)] }, { query: "?sync=true" })).status).toBe(201);
    const hour = new Date(t).toISOString().slice(0, 13).replace(/-/g, "").replace(/(\d{8})(\d{2})/, "$1T$2");
    const path = `/device/MPPT-H/dataset/mppt/period/hour/${hour}Z/1`;
    for (const forged of [cursorOf(1), cursorOf({ t: "soon", part: "" }), cursorOf({ t: 1e300, part: 5 }), cursorOf({}), cursorOf([])]) {
      const r = await m.call("GET", `${path}?cursor=${forged}`, { headers: { "x-api-key": rawKey } });
      expect({ forged, status: r.status, error: r.json?.error }).toEqual({ forged, status: 400, error: "invalid_input" });
    }
  });

  it("answers a forged alarms cursor with 400, never a 500", async () => {
    for (const forged of [cursorOf(1), cursorOf({ at: "yesterday", id: 7 }), cursorOf({ at: 5 }), cursorOf("x")]) {
      const r = await m.summary(`/api/v1/regions/eu-north/alarms?cursor=${forged}`);
      expect({ forged, status: r.status, error: r.json?.error }).toEqual({ forged, status: 400, error: "invalid_input" });
    }
    // The shape the API hands out still pages.
    expect((await m.summary(`/api/v1/regions/eu-north/alarms?cursor=${cursorOf({ at: new Date().toISOString(), id: "alarm-x" })}`)).status).toBe(200);
  });

  it("a sender at another site cannot write, move or pre-empt a device that belongs to a site", async () => {
    const t = Date.now() - 30_000;
    expect((await m.post("mppt", key, { datasets: [mpptDataset("MPPT-OWNED", t, { pvAmps: 6 })] }, { query: "?sync=true" })).status).toBe(201);
    // Another site's key: the same device, a forged value, the next second, and one it tries to pre-empt.
    const forged = await m.post("mppt", otherSiteKey, { datasets: [mpptDataset("MPPT-OWNED", t + 1000, { pvAmps: 99 }), mpptDataset("MPPT-OTHERS", t + 1000)] }, { query: "?sync=true" });
    expect(forged.status).toBe(400);
    expect(forged.json).toMatchObject({ accepted: 1, rejected: 1, fields: [{ path: "mppt_id", message: expect.stringContaining("belongs to another site") }] });
    // The genuine sample for that second is still stored (not a "duplicate" of the forged one).
    expect((await m.post("mppt", key, { datasets: [mpptDataset("MPPT-OWNED", t + 1000, { pvAmps: 7 })] }, { query: "?sync=true" })).status).toBe(201);
    const device = await m.summary("/api/v1/regions/eu-north/devices/MPPT-OWNED");
    expect(device.json.device.site).toBe("site-h");
    const hour = new Date(t).toISOString().slice(0, 13).replace(/-/g, "").replace(/(\d{8})(\d{2})/, "$1T$2");
    const samples = [];
    for (const h of new Set([hour, new Date(t + 1000).toISOString().slice(0, 13).replace(/-/g, "").replace(/(\d{8})(\d{2})/, "$1T$2")])) {
      samples.push(...(await m.call("GET", `/device/MPPT-OWNED/dataset/mppt/period/hour/${h}Z/1`, { headers: { "x-api-key": rawKey } })).json.items);
    }
    expect(samples.map((s: { sender: string; pv: { amps: number }[] }) => [s.sender, s.pv[0].amps])).toEqual([["S-site-h", 6], ["S-site-h", 7]]);
  });
});
