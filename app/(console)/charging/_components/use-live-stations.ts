"use client";

import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/app/_trpc/client";
import type { StationView } from "@/contracts/csms";
import { useLiveMap, useLiveState } from "../../_components/live";

const keyOf = (s: StationView) => s.id;

/** Every station live (snapshot, then coalesced changes), or just one with `stationId`. */
export const useLiveStations = (stationId?: string) => {
  const trpc = useTRPC();
  const { items, received, apply } = useLiveMap<StationView>(keyOf);
  const subscription = useSubscription(
    trpc.charging.stations.onChange.subscriptionOptions(stationId ? { stationId } : undefined, { onData: (event) => apply(event.data) }),
  );
  const state = useLiveState(subscription, received);
  return { stations: items, received, state };
};
