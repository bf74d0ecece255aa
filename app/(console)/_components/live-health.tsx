"use client";

import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import { useLiveFeed, type LiveState } from "./ui/live-feed";

/** One upstream link as the health feed reports it. */
export type UpstreamStatus = RouterOutputs["overview"]["summary"]["links"][number];
export type LinkState = UpstreamStatus["state"];

type LiveHealth = { links: UpstreamStatus[]; received: boolean; state: LiveState };

const LiveHealthContext = createContext<LiveHealth>({ links: [], received: false, state: "off" });

const keyOf = (s: UpstreamStatus) => s.id;

/** One subscription to upstream health for the whole console (the bar and the overview share it). */
export const LiveHealthProvider = ({ children }: { children: ReactNode }) => {
  const trpc = useTRPC();
  const { items, received, state } = useLiveFeed<UpstreamStatus>({ keyOf, subscribe: (onData) => trpc.health.onChange.subscriptionOptions(undefined, { onData }) });
  const value = useMemo(() => ({ links: [...items.values()], received, state }), [items, received, state]);
  return <LiveHealthContext.Provider value={value}>{children}</LiveHealthContext.Provider>;
};

export const useLiveHealth = () => useContext(LiveHealthContext);
