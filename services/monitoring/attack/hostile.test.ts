import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mpptDataset, startTestMonitoring, type TestMonitoring } from "../testkit";

/** A hostile client against the monitoring service's ingest, raw-data and summary APIs. */
let m: TestMonitoring;
let key: string;
let rawKey: string;
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

beforeAll(async () => {
  m = await startTestMonitoring();
  key = await m.addSite("site-h", "eu-north");
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
});
