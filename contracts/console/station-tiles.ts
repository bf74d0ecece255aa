import type { StationView } from "../csms/api";
import { matchesStationFilter, type StationFilter } from "../csms/station-filter";

/**
 * The stations an operator watches for: each tile is a filter of the stations table, and its
 * count is exactly the number of rows that filter shows (same predicate), on the stations
 * page and on the Overview alike.
 */
export const STATION_TILES = [
  { id: "charging", label: "Charging", filter: { status: "Charging" }, action: "Show stations with a connector charging" },
  { id: "faulted", label: "Faulted", filter: { status: "Faulted" }, action: "Show stations with a faulted connector" },
  { id: "unavailable", label: "Unavailable", filter: { status: "Unavailable" }, action: "Show stations with an unavailable connector" },
  { id: "offline", label: "Offline", filter: { online: false }, action: "Show offline stations" },
] as const satisfies readonly { id: string; label: string; filter: StationFilter; action: string }[];

export type StationTileId = (typeof STATION_TILES)[number]["id"];
export type StationTileCounts = Record<StationTileId, number>;

/** How many stations each tile's filter matches, in one pass. */
export const countStationTiles = (stations: Iterable<StationView>): StationTileCounts => {
  const counts = Object.fromEntries(STATION_TILES.map((t) => [t.id, 0])) as StationTileCounts;
  for (const s of stations) for (const t of STATION_TILES) if (matchesStationFilter(s, t.filter)) counts[t.id]++;
  return counts;
};

/** The URL search params that apply a tile's filter on /charging (`status=Faulted`, `online=false`). */
export const stationTileQuery = (filter: StationFilter) =>
  Object.entries(filter)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join("&");
