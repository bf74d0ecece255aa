import { describe, expect, it } from "vitest";
import type { StationView } from "../../contracts/csms/api";
import { createChargingStore } from "../connectors/csms/store";
import { listStations } from "./list-stations";

const station = (i: number, over: Partial<StationView> = {}): StationView => ({
  id: `ST${String(i).padStart(5, "0")}`,
  protocol: i % 2 ? "ocpp1.6" : "ocpp2.0.1",
  online: i % 10 !== 0,
  lastSeenAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(),
  bootedAt: null,
  heartbeatIntervalSec: 60,
  vendor: "Acme",
  model: "W11",
  firmwareVersion: null,
  serialNumber: `SN${i}`,
  gateway: null,
  connectors: [{ evseId: 1, connectorId: 1, status: i % 7 === 0 ? "Faulted" : "Available", errorCode: null, updatedAt: null }],
  activeTransactionIds: [],
  powerW: i % 3 ? i * 10 : null,
  energyTodayWh: i,
  ...over,
});

const fleet = (n: number) => {
  const store = createChargingStore(64);
  store.stations.applySnapshot(Array.from({ length: n }, (_, i) => station(i + 1)));
  return store;
};

describe("a window of the stations table", () => {
  it("filters, sorts and slices the live view, with the match count and the tiles' figures", () => {
    const store = fleet(50_000);
    const page = listStations({ store, filter: { status: "Faulted" }, sort: { key: "id", desc: true }, offset: 10, limit: 5 });
    expect(page.total).toBe(Math.floor(50_000 / 7));
    expect(page.items).toHaveLength(5);
    expect(page.items.every((s) => s.connectors[0]!.status === "Faulted")).toBe(true);
    expect(page.items.map((s) => s.id)).toEqual([...page.items.map((s) => s.id)].sort().reverse());
    expect(page.figures.totalStations).toBe(50_000);
    expect(page.figures.stationTiles.faulted).toBe(page.total);
    expect(page.figures.stationTiles.offline).toBe(5_000);
  });

  it("sorts missing values last both ways, ties by id", () => {
    const store = fleet(12);
    const asc = listStations({ store, filter: {}, sort: { key: "power", desc: false }, offset: 0, limit: 100 }).items.map((s) => s.powerW);
    const desc = listStations({ store, filter: {}, sort: { key: "power", desc: true }, offset: 0, limit: 100 }).items.map((s) => s.powerW);
    expect(asc.slice(-4)).toEqual([null, null, null, null]);
    expect(desc.slice(-4)).toEqual([null, null, null, null]);
    expect(asc.slice(0, 3)).toEqual([10, 20, 40]);
    expect(desc.slice(0, 2)).toEqual([110, 100]);
  });

  it("follows the store: a station that changes is answered as it is now", () => {
    const store = fleet(20);
    const byId = { key: "id", desc: false } as const;
    expect(listStations({ store, filter: { q: "ST00003" }, sort: byId, offset: 0, limit: 10 }).items[0]!.online).toBe(true);
    const before = listStations({ store, filter: { online: false }, sort: byId, offset: 0, limit: 10 });
    expect(before.figures.offline).toBe(2);
    store.stations.upsert(station(3, { online: false }));
    // Within the reuse window a busy fleet's list may be that much behind; past it (here: at once) it is exact.
    const after = listStations({ store, filter: { online: false }, sort: byId, offset: 0, limit: 10, reuseMs: 0 });
    expect(after.items.map((s) => s.id)).toContain("ST00003");
    expect(after.figures.offline).toBe(3);
  });
});
