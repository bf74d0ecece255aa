"use client";

import { useTRPC } from "@/app/_trpc/client";
import type { StationView } from "@/contracts/csms";
import { useLiveFeed } from "../../_components/ui/live-feed";

const keyOf = (s: StationView) => s.id;

/** Every station live (snapshot, then coalesced changes), or just one with `stationId`. */
export const useLiveStations = (stationId?: string) => {
  const trpc = useTRPC();
  const { items, received, state } = useLiveFeed<StationView>({
    keyOf,
    subscribe: (onData) => trpc.charging.stations.onChange.subscriptionOptions(stationId ? { stationId } : undefined, { onData }),
  });
  return { stations: items, received, state };
};
