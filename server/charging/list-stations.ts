import "server-only";
import { countStationTiles } from "../../contracts/console/station-tiles";
import { sortStations, type StationSort } from "../../contracts/console/station-sort";
import type { StationView } from "../../contracts/csms/api";
import { computeKpis } from "../../contracts/csms/kpis";
import { matchesStationFilter, type StationFilter } from "../../contracts/csms/station-filter";
import type { ChargingStore } from "../connectors/csms";
import { currentStore } from "./get-kpis";

export type ListStationsOptions = {
  filter: StationFilter;
  sort: StationSort;
  offset: number;
  limit: number;
  store?: ChargingStore;
  /** How stale a list may be while the fleet keeps changing (default REUSE_MS). */
  reuseMs?: number;
};

/** A computed answer and the store version it was computed at. */
type Cached<T> = { head: number; at: number; value: T };
type Figures = ReturnType<typeof computeKpis> & { stationTiles: ReturnType<typeof countStationTiles> };
type Caches = { lists: Map<string, Cached<StationView[]>>; figures?: Cached<Figures> };

/** How long one filtered, sorted list serves requests while the fleet keeps changing. */
const REUSE_MS = 250;
const MAX_LISTS = 32;

const g = globalThis as unknown as { __switchyardStationLists?: WeakMap<ChargingStore, Caches> };
const cachesOf = (store: ChargingStore) => {
  const all = (g.__switchyardStationLists ??= new WeakMap());
  let caches = all.get(store);
  if (!caches) all.set(store, (caches = { lists: new Map() }));
  return caches;
};

/** Reuses a cached value while nothing changed, or for REUSE_MS while the fleet keeps changing. */
const cached = <T>(entry: Cached<T> | undefined, head: number, reuseMs: number, compute: () => T): Cached<T> => {
  const now = Date.now();
  if (entry && (entry.head === head || now - entry.at < reuseMs)) return entry;
  return { head, at: now, value: compute() };
};

/**
 * One window of the stations table, answered from the console's live view: the stations
 * matching `filter`, sorted by `sort`, rows `offset` … `offset + limit`, with how many match
 * and the fleet's figures (the counts the tiles show). The browser never holds the fleet:
 * 50,000 stations cost it one window of rows. The filtered, sorted list is kept for a
 * moment per (filter, sort), so several browsers and the pages of one scroll share it:
 * an answer is at most `reuseMs` behind the live view, and exact once the fleet is quiet.
 */
export const listStations = ({ filter, sort, offset, limit, store = currentStore(), reuseMs = REUSE_MS }: ListStationsOptions) => {
  const head = store.stations.feed.head;
  const caches = cachesOf(store);
  const key = JSON.stringify([filter.q?.trim().toLowerCase() ?? "", filter.online ?? null, filter.protocol ?? null, filter.status ?? null, sort.key, sort.desc]);
  const list = cached(caches.lists.get(key), head, reuseMs, () => {
    const matching: StationView[] = [];
    for (const s of store.stations.values()) if (matchesStationFilter(s, filter)) matching.push(s);
    return sortStations(matching, sort);
  });
  caches.lists.delete(key);
  caches.lists.set(key, list);
  while (caches.lists.size > MAX_LISTS) caches.lists.delete(caches.lists.keys().next().value!);
  caches.figures = cached(caches.figures, head, reuseMs, () => {
    const all = [...store.stations.values()];
    return { ...computeKpis(all), stationTiles: countStationTiles(all) };
  });
  return { items: list.value.slice(offset, offset + limit), offset, total: list.value.length, figures: caches.figures.value };
};
