"use client";

import { keepPreviousData, skipToken, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { StationView } from "@/contracts/csms";
import type { StationFilter } from "@/contracts/csms/station-filter";
import { useLiveFeed } from "../../_components/ui/live-feed";

/** Rows fetched per step, and how far beyond the screen a window reaches. */
const PAGE = 100;
const AHEAD = 40;
/** How often the window is re-read (new order, new members, the tiles' counts). */
const REFRESH_MS = 1000;
/** Scrolling settles this long before the live subscription follows the rows on screen. */
const WATCH_AFTER_MS = 250;

const keyOf = (s: StationView) => s.id;

const useSettled = <T,>(value: T, ms: number) => {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
};

/**
 * The stations table as a window over the server's list: the console keeps the fleet (its
 * live view) and answers the rows on screen, filtered and sorted, with the match count and
 * the fleet's figures (`charging.stations.list`, re-read every second); the stations on
 * screen are also watched live (`onChange({ stationIds })`) so their heartbeats, meter
 * values and status changes show within the coalescing window. The browser holds a few
 * hundred stations whatever the fleet's size.
 */
export const useStationsWindow = (filter: StationFilter, sort: string) => {
  const trpc = useTRPC();
  const [range, setRange] = useState({ first: 0, last: 40 });
  const onRange = useCallback((first: number, last: number) => setRange((r) => (r.first === first && r.last === last ? r : { first, last })), []);

  const offset = Math.max(0, Math.floor((range.first - AHEAD) / PAGE) * PAGE);
  const end = Math.ceil((Math.max(range.last, 0) + AHEAD + 1) / PAGE) * PAGE;
  const query = useQuery(
    trpc.charging.stations.list.queryOptions({ ...filter, sort: sort || undefined, offset, limit: Math.min(500, end - offset) }, { placeholderData: keepPreviousData, refetchInterval: REFRESH_MS }),
  );
  const page = query.data;

  // Watch what is on screen (once scrolling settles), by id.
  const watchKey = useMemo(() => {
    if (!page) return "";
    return page.items
      .slice(Math.max(0, range.first - page.offset), Math.max(0, range.last - page.offset + 1))
      .map((s) => s.id)
      .join(",");
  }, [page, range.first, range.last]);
  const watched = useSettled(watchKey, WATCH_AFTER_MS);
  const live = useLiveFeed<StationView>({
    keyOf,
    subscribe: (onData) => trpc.charging.stations.onChange.subscriptionOptions(watched ? { stationIds: watched.split(",").slice(0, 300) } : skipToken, { onData }),
  });

  const rows = useMemo(() => (page ? page.items.map((s) => live.items.get(s.id) ?? s) : []), [page, live.items]);
  return { rows, offset: page?.offset ?? 0, total: page?.total ?? 0, figures: page?.figures ?? null, query, liveState: live.state, onRange };
};
