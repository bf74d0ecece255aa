import { describe, expect, it } from "vitest";
import type { StationView } from "../csms/api";
import { matchesStationFilter } from "../csms/station-filter";
import { countStationTiles, STATION_TILES, stationTileQuery } from "./station-tiles";

const station = (id: string, over: Partial<StationView> = {}, statuses: string[] = ["Available"]): StationView => ({
  id,
  protocol: "ocpp1.6",
  online: true,
  lastSeenAt: null,
  bootedAt: null,
  heartbeatIntervalSec: 60,
  vendor: "Acme",
  model: "Wallbox 11",
  firmwareVersion: null,
  serialNumber: `SN-${id}`,
  gateway: null,
  connectors: statuses.map((status, i) => ({ evseId: i + 1, connectorId: i + 1, status, errorCode: null, updatedAt: null })),
  activeTransactionIds: [],
  powerW: null,
  energyTodayWh: 0,
  ...over,
});

const fleet = [
  station("A1", {}, ["Charging", "Faulted"]),
  station("A2", {}, ["Faulted"]),
  station("A3", { online: false }, ["Unavailable"]),
  station("A4", {}, ["Available", "Charging"]),
  station("B1", { vendor: "Volta", model: "Pillar", serialNumber: "X-99" }),
];

describe("the stations tiles", () => {
  it("count exactly the stations each tile's filter shows", () => {
    const counts = countStationTiles(fleet);
    expect(counts).toEqual({ charging: 2, faulted: 2, unavailable: 1, offline: 1 });
    for (const tile of STATION_TILES) expect(counts[tile.id]).toBe(fleet.filter((s) => matchesStationFilter(s, tile.filter)).length);
  });

  it("count a 2.0.1 connector in a session (Occupied with a transaction) as charging, an idle Occupied one not", () => {
    const v201 = (id: string, transactionId: string | null) =>
      station(id, { protocol: "ocpp2.0.1", connectors: [{ evseId: 1, connectorId: 1, status: "Occupied", errorCode: null, updatedAt: null, transactionId }] });
    expect(countStationTiles([v201("C1", "C1:tx-1"), v201("C2", null)]).charging).toBe(1);
  });

  it("lead to the stations table with their filter in the URL", () => {
    expect(stationTileQuery(STATION_TILES.find((t) => t.id === "faulted")!.filter)).toBe("status=Faulted");
    expect(stationTileQuery(STATION_TILES.find((t) => t.id === "offline")!.filter)).toBe("online=false");
  });
});

describe("the stations search", () => {
  it("finds a station by id, vendor, model or serial number, ignoring case and spaces", () => {
    const find = (q: string) => fleet.filter((s) => matchesStationFilter(s, { q })).map((s) => s.id);
    expect(find("a2")).toEqual(["A2"]);
    expect(find("volta")).toEqual(["B1"]);
    expect(find(" pillar ")).toEqual(["B1"]);
    expect(find("x-99")).toEqual(["B1"]);
    expect(find("sn-a")).toEqual(["A1", "A2", "A3", "A4"]);
    expect(find("nothing")).toEqual([]);
  });
});
