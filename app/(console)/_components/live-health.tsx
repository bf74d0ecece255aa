"use client";

import { useSubscription } from "@trpc/tanstack-react-query";
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { UpstreamStatus } from "@/server/connectors/health";
import { useLiveMap, useLiveState, type LiveState } from "./live";

type LiveHealth = { links: UpstreamStatus[]; received: boolean; state: LiveState };

const LiveHealthContext = createContext<LiveHealth>({ links: [], received: false, state: "off" });

const keyOf = (s: UpstreamStatus) => s.id;

/** One subscription to upstream health for the whole console (the bar and the overview share it). */
export const LiveHealthProvider = ({ children }: { children: ReactNode }) => {
  const trpc = useTRPC();
  const { items, received, apply } = useLiveMap<UpstreamStatus>(keyOf);
  const subscription = useSubscription(trpc.health.onChange.subscriptionOptions(undefined, { onData: (event) => apply(event.data) }));
  const state = useLiveState(subscription, received);
  const value = useMemo(() => ({ links: [...items.values()], received, state }), [items, received, state]);
  return <LiveHealthContext.Provider value={value}>{children}</LiveHealthContext.Provider>;
};

export const useLiveHealth = () => useContext(LiveHealthContext);
