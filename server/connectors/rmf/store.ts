import "server-only";
import type { AlertRequest, AlertResponse, BuildingMap, Door, DoorState, Lift, LiftState, RobotState, TaskState } from "../../../contracts/rmf";
import { Feed } from "../../../lib/feed";
import { env } from "../../env";
import { createEntityStore, type EntityStore } from "../kit/store";

/** One robot as the console keeps it: RMF's RobotState plus where it belongs. */
export type RobotView = RobotState & { key: string; fleet: string; name: string };
export type FleetView = { name: string; robots: string[] };
/** A door: its map definition (with the level it is on) and its latest state, either of which may be missing. */
export type DoorView = { name: string; level: string | null; definition: Door | null; state: DoorState | null };
export type LiftView = { name: string; definition: Lift | null; state: LiftState | null };
/** An alert and, once someone answered it, the answer. */
export type AlertView = AlertRequest & { response: AlertResponse | null };

/**
 * The console's materialized view of an RMF site: what the live view (socket.io rooms after
 * REST listings) last heard, per kind. Routers and browser subscriptions read it. One per
 * process, on globalThis, so Next's separate server entries and hot reloads share it.
 */
export type RobotsStore = {
  map: EntityStore<BuildingMap>;
  fleets: EntityStore<FleetView>;
  robots: EntityStore<RobotView>;
  tasks: EntityStore<TaskState>;
  doors: EntityStore<DoorView>;
  lifts: EntityStore<LiftView>;
  alerts: EntityStore<AlertView>;
  /**
   * Map, fleets, doors, lifts and alerts as one feed (`<kind>:<name>` keys), so a page needs
   * one live connection for all of them: browsers allow only six per site over HTTP/1.1.
   */
  site: Feed<SiteItem>;
};

/** One entry of the combined site feed. */
export type SiteItem =
  | { key: string; kind: "map"; map: BuildingMap }
  | { key: string; kind: "fleet"; fleet: FleetView }
  | { key: string; kind: "door"; door: DoorView }
  | { key: string; kind: "lift"; lift: LiftView }
  | { key: string; kind: "alert"; alert: AlertView };

export const robotKey = (fleet: string, robot: string) => `${fleet}/${robot}`;

export const createRobotsStore = (bufferSize = env().LIVE_BUFFER_SIZE): RobotsStore => {
  const map = createEntityStore<BuildingMap>({ name: "robots.map", keyOf: (m) => m.name, bufferSize: 16 });
  const fleets = createEntityStore<FleetView>({ name: "robots.fleets", keyOf: (f) => f.name, bufferSize });
  const doors = createEntityStore<DoorView>({ name: "robots.doors", keyOf: (d) => d.name, bufferSize });
  const lifts = createEntityStore<LiftView>({ name: "robots.lifts", keyOf: (l) => l.name, bufferSize });
  const alerts = createEntityStore<AlertView>({ name: "robots.alerts", keyOf: (a) => a.id, bufferSize });
  const wrap = {
    map: (m: BuildingMap): SiteItem => ({ key: `map:${m.name}`, kind: "map", map: m }),
    fleet: (f: FleetView): SiteItem => ({ key: `fleet:${f.name}`, kind: "fleet", fleet: f }),
    door: (d: DoorView): SiteItem => ({ key: `door:${d.name}`, kind: "door", door: d }),
    lift: (l: LiftView): SiteItem => ({ key: `lift:${l.name}`, kind: "lift", lift: l }),
    alert: (a: AlertView): SiteItem => ({ key: `alert:${a.id}`, kind: "alert", alert: a }),
  };
  const site = new Feed<SiteItem>({
    name: "robots.site",
    keyOf: (i) => i.key,
    snapshot: () => [...[...map.values()].map(wrap.map), ...[...fleets.values()].map(wrap.fleet), ...[...doors.values()].map(wrap.door), ...[...lifts.values()].map(wrap.lift), ...[...alerts.values()].map(wrap.alert)],
    bufferSize,
  });
  const relay = <T>(kind: keyof typeof wrap, store: EntityStore<T>) =>
    store.feed.listen((c) => site.publish(`${kind}:${c.key}`, c.data === null ? null : (wrap[kind] as (item: T) => SiteItem)(c.data)));
  relay("map", map);
  relay("fleet", fleets);
  relay("door", doors);
  relay("lift", lifts);
  relay("alert", alerts);
  return {
    map,
    fleets,
    robots: createEntityStore<RobotView>({ name: "robots.robots", keyOf: (r) => r.key, bufferSize }),
    tasks: createEntityStore<TaskState>({ name: "robots.tasks", keyOf: (t) => t.booking.id, bufferSize }),
    doors,
    lifts,
    alerts,
    site,
  };
};

const g = globalThis as unknown as { __switchyardRobots?: RobotsStore };
export const robotsStore = (): RobotsStore => (g.__switchyardRobots ??= createRobotsStore());
