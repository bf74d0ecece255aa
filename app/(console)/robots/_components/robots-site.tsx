"use client";

import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { BuildingMap } from "@/contracts/rmf";
import type { AlertView, DoorView, FleetView, LiftView, SiteItem } from "@/server/connectors/rmf";
import { useLiveFeed, type LiveState } from "../../_components/ui/live-feed";

type RobotsSite = {
  map: BuildingMap | undefined;
  fleets: ReadonlyMap<string, FleetView>;
  doors: ReadonlyMap<string, DoorView>;
  lifts: ReadonlyMap<string, LiftView>;
  alerts: ReadonlyMap<string, AlertView>;
  received: boolean;
  state: LiveState;
};

const SiteContext = createContext<RobotsSite | null>(null);
const keyOf = (i: SiteItem) => i.key;

/**
 * The map, fleets, doors, lifts and alerts for every robots page, from one live stream
 * (`robots.onSite`): a page then holds at most four live connections (health, commands,
 * this, robots or tasks), under the six a browser allows per site.
 */
export const RobotsSiteProvider = ({ children }: { children: ReactNode }) => {
  const trpc = useTRPC();
  const { items, received, state } = useLiveFeed<SiteItem>({ keyOf, subscribe: (onData) => trpc.robots.onSite.subscriptionOptions(undefined, { onData }) });
  const value = useMemo(() => {
    const site: RobotsSite = { map: undefined, fleets: new Map(), doors: new Map(), lifts: new Map(), alerts: new Map(), received, state };
    const [fleets, doors, lifts, alerts] = [new Map<string, FleetView>(), new Map<string, DoorView>(), new Map<string, LiftView>(), new Map<string, AlertView>()];
    for (const item of items.values()) {
      if (item.kind === "map") site.map = item.map;
      else if (item.kind === "fleet") fleets.set(item.fleet.name, item.fleet);
      else if (item.kind === "door") doors.set(item.door.name, item.door);
      else if (item.kind === "lift") lifts.set(item.lift.name, item.lift);
      else alerts.set(item.alert.id, item.alert);
    }
    return { ...site, fleets, doors, lifts, alerts };
  }, [items, received, state]);
  return <SiteContext.Provider value={value}>{children}</SiteContext.Provider>;
};

export const useRobotsSite = () => {
  const site = useContext(SiteContext);
  if (!site) throw new Error("useRobotsSite needs RobotsSiteProvider (robots/layout.tsx)");
  return site;
};
