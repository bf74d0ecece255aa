import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { logger } from "../../lib/log";
import { applyMigrations } from "../../lib/db/migrate";
import { formatTimeLocal } from "../../contracts/monitoring";
import { startMonitoring, type MonitoringOptions } from "./service";
import { deriveRecords } from "./transform/derive-records";

/** Test helpers: a real service on port 0 with in-memory stores, and a small HTTP client. */
export const WAIT_MS = 15_000;

export const eventually = async <T>(check: () => T | Promise<T>, what = "condition", ms = WAIT_MS): Promise<NonNullable<T>> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

export const startTestMonitoring = async (overrides: Partial<MonitoringOptions> = {}) => {
  const regions = overrides.regions ?? ["eu-north", "eu-west"];
  const consoleToken = randomBytes(16).toString("hex");
  const adminToken = randomBytes(16).toString("hex");
  const service = await startMonitoring({
    port: 0,
    regions,
    regionDatabases: Object.fromEntries(regions.map((r) => [r, "memory://"])),
    dataDir: "/nonexistent",
    consoleToken,
    adminToken,
    log: logger(),
    ...overrides,
  });
  const call = async (method: string, path: string, { body, headers = {}, raw }: { body?: unknown; headers?: Record<string, string>; raw?: string } = {}) => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const admin = (method: string, path: string, body?: unknown) => call(method, path, { body, headers: { authorization: `Bearer ${adminToken}` } });
  const summary = (path: string, { regions: allowed = "*", method = "GET", body, actor = "op@test" }: { regions?: string; method?: string; body?: unknown; actor?: string } = {}) =>
    call(method, path, { body, headers: { authorization: `Bearer ${consoleToken}`, "x-switchyard-regions": allowed, "x-switchyard-actor": actor } });
  const addSite = async (id: string, region: string, kind: "solar" | "building" = "solar") => {
    const r = await admin("POST", "/api/v1/admin/sites", { id, name: `Site ${id}`, region, kind });
    if (r.status !== 200) throw new Error(`site: ${r.text}`);
    const k = await admin("POST", "/api/v1/admin/keys", kind === "building" ? { kind: "gateway", site: id } : { kind: "ingest", site: id, sender: `S-${id}`, ratePerSecond: 100_000 });
    if (k.status !== 201) throw new Error(`key: ${k.text}`);
    return k.json.key as string;
  };
  const post = (dataset: string, key: string | undefined, body: unknown, { csv = false, query = "" }: { csv?: boolean; query?: string } = {}) =>
    call("POST", `/devices/dataset/${dataset}${query}`, {
      raw: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": csv ? "text/csv" : "application/json", ...(key ? { "x-api-key": key } : {}) },
    });
  return { service, url: service.url, consoleToken, adminToken, call, admin, summary, addSite, post, close: service.close };
};
export type TestMonitoring = Awaited<ReturnType<typeof startTestMonitoring>>;

/** A valid pms dataset at `t` (ms) with 4 packs; `cells` overrides the cell volts of pack 1. */
export const pmsDataset = (id: string, t: number, { packs = 4, cells, offset = 420 }: { packs?: number; cells?: number[]; offset?: number } = {}) => ({
  pms_id: id,
  status: { code: "0001", temp: 48.3 },
  data: Array.from({ length: packs }, (_, i) => ({
    time_local: formatTimeLocal(t, offset),
    pack: {
      id: `P${String(i + 1).padStart(3, "0")}`,
      dock: i + 1,
      amps: -1.601,
      temp: [35.0, 33.0, 34.0],
      cell: { open: [], volts: i === 0 && cells ? cells : [3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.92, 3.91] },
      fet: { open: [1, 2], temp: [34.1, 32.2] },
    },
  })),
});

export const mpptDataset = (id: string, t: number, { code = "2801", offset = 420, pvAmps = 6 }: { code?: string; offset?: number; pvAmps?: number } = {}) => ({
  mppt_id: id,
  status: { code },
  data: [{ time_local: formatTimeLocal(t, offset), pv: { volts: [48, 48], amps: [pvAmps, pvAmps] }, battery: { volts: 55.1, amps: 2.5 }, load: { volts: [48, 48], amps: [1.2, 1.2] } }],
});

export const inverterDataset = (id: string, t: number, { code = "0001", offset = 420 }: { code?: string; offset?: number } = {}) => ({
  inverter_id: id,
  status: { code },
  data: [{ time_local: formatTimeLocal(t, offset), pv: { volts: [48, 48], amps: [6, 6] }, battery: { volts: 55.1, amps: 0 }, load: { volts: [48, 48], amps: [1.2, 1.2] }, grid: { volts: [48, 48, 48], amps: [1.2, 1.2, 1.2], pf: [0.92, 0.92, 0.92] } }],
});

/** An in-memory PGlite with the whole schema (storage unit tests). */
export const migratedPGlite = async () => {
  const db = new PGlite();
  await applyMigrations(db);
  return db;
};

/** `n` stored mppt records of `device`, one every 10 s from `t0 + from × 10 s`, pv amps = their index. */
export const mpptRecords = (t0: number, n: number, from: number, device: string) =>
  Array.from({ length: n }, (_, i) => deriveRecords("mppt", mpptDataset(device, t0 + (from + i) * 10_000, { pvAmps: from + i }) as never, { site: "s", sender: "x", processedAt: t0 })).flat();
