"use client";

import { useTRPC } from "@/app/_trpc/client";
import type { StationView } from "@/contracts/csms";
import { useLiveFeed } from "../../_components/ui/live-feed";

const keyOf = (s: StationView) => s.id;

/** One station live (snapshot, then coalesced changes). */
export const useLiveStations = (stationId: string) => {
  const trpc = useTRPC();
  const { items, received, state } = useLiveFeed<StationView>({
    keyOf,
    subscribe: (onData) => trpc.charging.stations.onChange.subscriptionOptions({ stationId }, { onData }),
  });
  return { stations: items, received, state };
};
