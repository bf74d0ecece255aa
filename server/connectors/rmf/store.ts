import "server-only";
import type { AlertRequest, AlertResponse, BuildingMap, Door, DoorState, Lift, LiftState, RobotState, TaskState } from "../../../contracts/rmf";
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
};

export const robotKey = (fleet: string, robot: string) => `${fleet}/${robot}`;

export const createRobotsStore = (bufferSize = env().LIVE_BUFFER_SIZE): RobotsStore => ({
  map: createEntityStore<BuildingMap>({ name: "robots.map", keyOf: (m) => m.name, bufferSize: 16 }),
  fleets: createEntityStore<FleetView>({ name: "robots.fleets", keyOf: (f) => f.name, bufferSize }),
  robots: createEntityStore<RobotView>({ name: "robots.robots", keyOf: (r) => r.key, bufferSize }),
  tasks: createEntityStore<TaskState>({ name: "robots.tasks", keyOf: (t) => t.booking.id, bufferSize }),
  doors: createEntityStore<DoorView>({ name: "robots.doors", keyOf: (d) => d.name, bufferSize }),
  lifts: createEntityStore<LiftView>({ name: "robots.lifts", keyOf: (l) => l.name, bufferSize }),
  alerts: createEntityStore<AlertView>({ name: "robots.alerts", keyOf: (a) => a.id, bufferSize }),
});

const g = globalThis as unknown as { __switchyardRobots?: RobotsStore };
export const robotsStore = (): RobotsStore => (g.__switchyardRobots ??= createRobotsStore());
