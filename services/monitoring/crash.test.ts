import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDb, usingServices, type TestDb } from "../../lib/testing/db";
import { eventually, mpptDataset } from "./testkit";
import { kill9, startServiceProcess } from "../../lib/testing/service-process";

/**
 * kill -9 under load, against real processes (service-backed: PostgreSQL for the region
 * store, the machine's NATS for the broker).
 * - NATS: an ingest process and a consumer process; the consumer is killed mid-load and a
 *   new one started. Every record the ingest acknowledged (200) is stored exactly once, and
 *   the rollups count each once (watermark recovery).
 * - In-process: one process; killed mid-load. What it can lose is what it had queued:
 *   records acknowledged with 200 may be missing, never more than were acknowledged, and
 *   every record acknowledged with 201 (synchronous) is there.
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const children = new Set<ChildProcess>();
const dbs: TestDb[] = [];
const streams: string[] = [];
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const db of dbs) await db.close();
  if (!streams.length) return;
  const nc = await import("nats").then((n) => n.connect({ servers: NATS_URL }));
  const jsm = await nc.jetstreamManager();
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

const startProcess = (env: Record<string, string>) => startServiceProcess("services/monitoring/main.ts", env, { children });

const setup = async (url: string, admin: string) => {
  const call = (path: string, body: unknown) => fetch(`${url}${path}`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  await call("/api/v1/admin/sites", { id: "crash-site", name: "Crash", region: "eu-north", kind: "solar" });
  return (await call("/api/v1/admin/keys", { kind: "ingest", site: "crash-site", sender: "LOAD", ratePerSecond: 100_000 })).key as string;
};

const post = (url: string, key: string, device: string, t: number, sync = false) =>
  fetch(`${url}/devices/dataset/mppt${sync ? "?sync=true" : ""}`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ datasets: [mpptDataset(device, t)] }) })
    .then((r) => r.status)
    .catch(() => 0);

const storedCount = async (dbUrl: string, device: string) => {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const s = await c.query(`SELECT count(*)::int AS n FROM "monitoring"."sample" WHERE device = $1`, [device]);
    const r = await c.query(`SELECT coalesce(sum(count), 0)::int AS n FROM "monitoring"."rollup_1m" WHERE device = $1 AND metric = 'battery.volts'`, [device]);
    return { samples: s.rows[0].n as number, rollup: r.rows[0].n as number };
  } finally {
    await c.end();
  }
};

describe.skipIf(!usingServices())("kill -9 under load", () => {
  it("NATS: loses no acknowledged sample when the consumer is killed", async () => {
    const db = await createTestDb();
    dbs.push(db);
    const id = randomBytes(4).toString("hex").toUpperCase();
    streams.push(`T${id}_EU_NORTH`, `T${id}_EU_NORTH_SYSTEM`);
    const admin = randomBytes(16).toString("hex");
    const common = {
      MONITORING_BROKER: "nats",
      MONITORING_NATS_URL: NATS_URL,
      MONITORING_NATS_PREFIX: `t${id.toLowerCase()}`,
      MONITORING_NATS_STREAM: `T${id}`,
      MONITORING_NATS_ACK_WAIT_MS: "2000",
      MONITORING_REGIONS: "eu-north",
      MONITORING_DB_EU_NORTH: db.url!,
      MONITORING_CONSOLE_TOKEN: randomBytes(16).toString("hex"),
      MONITORING_ADMIN_TOKEN: admin,
      MONITORING_PORT: "0",
    };
    const consumer = await startProcess({ ...common, MONITORING_ROLE: "consumer" });
    const key = await setup(consumer.url, admin);
    const ingest = await startProcess({ ...common, MONITORING_ROLE: "ingest" });
    const t0 = Date.now() - 3_600_000;
    const acked = new Set<number>();
    let next = 0;
    const load = async (until: () => boolean) => {
      const workers = Array.from({ length: 8 }, async () => {
        while (!until()) {
          const i = next++;
          if ((await post(ingest.url, key, "KILL-N", t0 + i * 100)) === 200) acked.add(i);
        }
      });
      await Promise.all(workers);
    };
    let killed = false;
    const loading = load(() => acked.size >= 1200);
    await eventually(async () => (await storedCount(db.url!, "KILL-N")).samples > 200, "consumer storing", 60_000);
    await kill9(consumer.proc);
    killed = true;
    const restarted = await startProcess({ ...common, MONITORING_ROLE: "consumer" });
    await loading;
    expect(killed).toBe(true);
    const final = await eventually(async () => {
      const c = await storedCount(db.url!, "KILL-N");
      return c.samples >= acked.size && c.rollup >= c.samples ? c : undefined;
    }, "every acknowledged record stored", 90_000);
    expect(final.samples).toBe(acked.size);
    expect(final.rollup).toBe(final.samples);
    await kill9(restarted.proc);
    await kill9(ingest.proc);
  }, 240_000);

  it("in-process: a kill -9 loses at most what was queued (200), never what was stored (201)", async () => {
    const db = await createTestDb();
    dbs.push(db);
    const admin = randomBytes(16).toString("hex");
    const env = { MONITORING_REGIONS: "eu-north", MONITORING_DB_EU_NORTH: db.url!, MONITORING_CONSOLE_TOKEN: randomBytes(16).toString("hex"), MONITORING_ADMIN_TOKEN: admin, MONITORING_PORT: "0" };
    const first = await startProcess(env);
    const key = await setup(first.url, admin);
    const t0 = Date.now() - 3_600_000;
    const queued = new Set<number>();
    const created = new Set<number>();
    let i = 0;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      while (queued.size + created.size < 1500) {
        const n = i++;
        const sync = w === 0;
        const status = await post(first.url, key, "KILL-I", t0 + n * 100, sync);
        if (status === 200) queued.add(n);
        if (status === 201) created.add(n);
        if (status === 0) return;
      }
    });
    await eventually(() => queued.size > 500 && created.size > 10, "load running", 60_000);
    await kill9(first.proc);
    await Promise.all(workers);
    const acknowledged = new Set([...queued, ...created]);
    const second = await startProcess(env);
    const c = new pg.Client({ connectionString: db.url! });
    await c.connect();
    const { rows } = await c.query(`SELECT (extract(epoch from time_event) * 1000)::float8 AS t FROM "monitoring"."sample" WHERE device = 'KILL-I'`);
    await c.end();
    const stored = new Set(rows.map((r) => Math.round((r.t - t0) / 100)));
    for (const n of created) expect(stored.has(n)).toBe(true);
    // Stored without an answer is possible (killed mid-response); stored without a request is not.
    for (const n of stored) expect(n).toBeLessThan(i);
    // State what was lost (the queued tail), for the record.
    const lost = [...acknowledged].filter((n) => !stored.has(n)).length;
    console.log(`in-process kill -9: ${acknowledged.size} acknowledged (${created.size} with 201), ${stored.size} stored, ${lost} acknowledged with 200 and lost from the queue`);
    await kill9(second.proc);
  }, 240_000);
});
