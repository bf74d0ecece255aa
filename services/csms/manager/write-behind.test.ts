import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../../lib/testing/db";
import { createWriteBehind } from "./write-behind";

let testDb: TestDb;
beforeAll(async () => {
  testDb = await createTestDb();
});
afterAll(async () => {
  await testDb?.close();
});

describe("write-behind of station state", () => {
  it("writes only the newest state per key, stations before their connectors and transactions, and everything on close", async () => {
    const w = createWriteBehind({ db: testDb.db, intervalMs: 60_000, maxPending: 3 });
    const at = new Date();
    w.station({ id: "WB1", protocol: "ocpp1.6", heartbeatIntervalSec: 60, lastSeenAt: at, boot: { vendor: "Acme", model: "M1", firmwareVersion: "1", serialNumber: "S1", bootedAt: at, heartbeatIntervalSec: 120 } });
    // A later "exists" in the same window keeps the boot info.
    w.station({ id: "WB1", protocol: "ocpp1.6", heartbeatIntervalSec: 60, lastSeenAt: at });
    w.connector({ stationId: "WB1", evseId: 1, connectorId: 1, status: "Preparing", errorCode: null, updatedAt: at });
    w.connector({ stationId: "WB1", evseId: 1, connectorId: 1, status: "Charging", errorCode: null, updatedAt: at });
    const tx = { id: "77001", seq: 77001, stationId: "WB1", transactionId: "77001", evseId: 1, connectorId: 1, idTag: "T", startedAt: at, stoppedAt: null, meterStartWh: 10, meterStopWh: null, energyWh: 0, powerW: null, socPct: null, stopReason: null, active: true };
    w.tx(tx);
    w.tx({ ...tx, seq: null, active: false, stoppedAt: at, meterStopWh: 110, energyWh: 100, stopReason: "Local" });
    expect(w.pending()).toBe(3);
    // Nothing is in the database before a flush: this is what a kill -9 can lose.
    expect(await testDb.db.csmsStation.count({ where: { id: "WB1" } })).toBe(0);
    // Full: room() waits for a flush (backpressure) instead of growing.
    await w.room();
    expect(w.pending()).toBe(0);
    const st = await testDb.db.csmsStation.findUniqueOrThrow({ where: { id: "WB1" }, include: { connectors: true } });
    expect(st).toMatchObject({ vendor: "Acme", serialNumber: "S1", heartbeatIntervalSec: 120, protocol: "ocpp1.6" });
    expect(st.connectors.map((c) => c.status)).toEqual(["Charging"]);
    expect(await testDb.db.csmsTransaction.findUniqueOrThrow({ where: { id: "77001" } })).toMatchObject({ seq: 77001, active: false, energyWh: 100, stopReason: "Local" });
    // A later plain write does not wipe the boot info; close() writes what is left (SIGTERM).
    w.station({ id: "WB1", protocol: "ocpp1.6", heartbeatIntervalSec: 60, lastSeenAt: new Date() });
    w.connector({ stationId: "WB1", evseId: 2, connectorId: 2, status: "Faulted", errorCode: "GroundFailure", updatedAt: new Date() });
    await w.close();
    expect(await testDb.db.csmsStation.findUniqueOrThrow({ where: { id: "WB1" } })).toMatchObject({ vendor: "Acme" });
    expect(await testDb.db.csmsConnector.count({ where: { stationId: "WB1" } })).toBe(2);
  });

  it("writes a bad row's neighbours when one row of a batch fails", async () => {
    const errors: string[] = [];
    const w = createWriteBehind({ db: testDb.db, intervalMs: 60_000, onError: (table) => errors.push(table) });
    const at = new Date();
    w.station({ id: "WB2", protocol: "ocpp2.0.1", heartbeatIntervalSec: 60, lastSeenAt: at });
    // No such station: this connector breaks its foreign key, the other one is written.
    w.connector({ stationId: "NOPE", evseId: 1, connectorId: 1, status: "Available", errorCode: null, updatedAt: at });
    w.connector({ stationId: "WB2", evseId: 1, connectorId: 1, status: "Available", errorCode: null, updatedAt: at });
    await w.close();
    expect(errors).toContain("connector");
    expect(await testDb.db.csmsConnector.count({ where: { stationId: "WB2" } })).toBe(1);
  });

  it("retries a connector whose station row another manager has not written yet, and writes its neighbours at once", async () => {
    const errors: string[] = [];
    const w = createWriteBehind({ db: testDb.db, intervalMs: 60_000, onError: (table, _e, rows) => errors.push(`${table}:${rows}`) });
    const other = createWriteBehind({ db: testDb.db, intervalMs: 60_000 });
    const at = new Date();
    w.station({ id: "WB4", protocol: "ocpp1.6", heartbeatIntervalSec: 60, lastSeenAt: at });
    await w.flush();
    // This manager learnt of WB3 from the other manager's feed; the other's station row is still pending.
    other.station({ id: "WB3", protocol: "ocpp1.6", heartbeatIntervalSec: 60, lastSeenAt: at });
    w.connector({ stationId: "WB3", evseId: 1, connectorId: 1, status: "Available", errorCode: null, updatedAt: at });
    w.connector({ stationId: "WB4", evseId: 1, connectorId: 1, status: "Charging", errorCode: null, updatedAt: at });
    await w.flush();
    expect(errors).toEqual(["connector:2"]); // the failed batch, no dropped row
    expect(await testDb.db.csmsConnector.count({ where: { stationId: "WB4" } })).toBe(1);
    expect(w.pending()).toBe(1);
    await other.close();
    await w.flush();
    expect(w.pending()).toBe(0);
    expect(await testDb.db.csmsConnector.findMany({ where: { stationId: "WB3" } })).toMatchObject([{ status: "Available" }]);
    expect(errors).toEqual(["connector:2"]);
    await w.close();
  });

  it("writes a big batch in bounded statements with the event loop free between them, a bad row failing only itself", async () => {
    const statements: number[] = [];
    const errors: string[] = [];
    const w = createWriteBehind({ db: testDb.db, intervalMs: 60_000, chunkRows: 4, onRows: (_table, n) => statements.push(n), onError: (table) => errors.push(table) });
    const at = new Date();
    for (let i = 0; i < 10; i++) w.station({ id: `WBC${i}`, protocol: "ocpp1.6", heartbeatIntervalSec: 60, lastSeenAt: at });
    for (let i = 0; i < 10; i++) w.connector({ stationId: i === 5 ? "NOPE" : `WBC${i}`, evseId: 1, connectorId: 1, status: "Available", errorCode: null, updatedAt: at });
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    await w.close();
    clearInterval(ticker);
    // 10 stations in 4 + 4 + 2; the connectors' failed chunk was retried row by row.
    expect(statements.slice(0, 3)).toEqual([4, 4, 2]);
    expect(errors).toContain("connector");
    expect(turns).toBeGreaterThan(0);
    expect(await testDb.db.csmsStation.count({ where: { id: { startsWith: "WBC" } } })).toBe(10);
    expect(await testDb.db.csmsConnector.count({ where: { stationId: { startsWith: "WBC" } } })).toBe(9);
  });
});
