import type { z } from "zod";
import type { RmfPermission } from "./auth";
import {
  alertRequestSchema,
  alertResponseSchema,
  beaconStateSchema,
  buildingMapSchema,
  deliveryAlertSchema,
  dispenserStateSchema,
  doorStateSchema,
  fireAlarmTriggerSchema,
  fleetLogSchema,
  fleetStateSchema,
  ingestorStateSchema,
  liftStateSchema,
  rioSchema,
  taskEventLogSchema,
  taskStateSchema,
} from "./models";

/**
 * The room grammar of rmf-web's socket.io protocol. A room is a path; the event carrying
 * its data has the room (URL-decoded) as its name. Names inside a room are one path
 * segment: anything but "/" (after decoding), 1–256 characters.
 */
export type RoomKind =
  | "building_map"
  | "fire_alarm_trigger"
  | "door_state"
  | "lift_state"
  | "dispenser_state"
  | "ingestor_state"
  | "fleet_state"
  | "fleet_log"
  | "task_state"
  | "task_log"
  | "alert_requests"
  | "alert_responses"
  | "beacons"
  | "rios"
  | "delivery_alerts";

export type RoomSpec = {
  payload: z.ZodType;
  /** The current value goes to a socket as soon as it subscribes. */
  sticky: boolean;
  /** Subscribing fails with `404 Not Found` (and subscribes nothing) while no state is stored. */
  mustExist: boolean;
  /** Beyond a valid token. */
  permission?: RmfPermission;
};

export const ROOM_SPECS: Record<RoomKind, RoomSpec> = {
  building_map: { payload: buildingMapSchema, sticky: true, mustExist: false },
  fire_alarm_trigger: { payload: fireAlarmTriggerSchema, sticky: true, mustExist: false },
  door_state: { payload: doorStateSchema, sticky: true, mustExist: true },
  lift_state: { payload: liftStateSchema, sticky: true, mustExist: true },
  dispenser_state: { payload: dispenserStateSchema, sticky: true, mustExist: true },
  ingestor_state: { payload: ingestorStateSchema, sticky: true, mustExist: true },
  fleet_state: { payload: fleetStateSchema, sticky: true, mustExist: false },
  fleet_log: { payload: fleetLogSchema, sticky: false, mustExist: false },
  task_state: { payload: taskStateSchema, sticky: true, mustExist: true, permission: "task_read" },
  task_log: { payload: taskEventLogSchema, sticky: false, mustExist: false, permission: "task_read" },
  alert_requests: { payload: alertRequestSchema, sticky: false, mustExist: false },
  alert_responses: { payload: alertResponseSchema, sticky: false, mustExist: false },
  beacons: { payload: beaconStateSchema, sticky: false, mustExist: false },
  rios: { payload: rioSchema, sticky: false, mustExist: false },
  delivery_alerts: { payload: deliveryAlertSchema, sticky: false, mustExist: false },
};

export type ParsedRoom = { kind: RoomKind; room: string; name?: string };

const FIXED: Record<string, RoomKind> = {
  "/building_map": "building_map",
  "/building_map/fire_alarm_trigger": "fire_alarm_trigger",
  "/alerts/requests": "alert_requests",
  "/alerts/responses": "alert_responses",
  "/beacons": "beacons",
  "/rios": "rios",
  "/delivery_alerts": "delivery_alerts",
};
const NAMED: [RegExp, RoomKind][] = [
  [/^\/doors\/([^/]{1,256})\/state$/, "door_state"],
  [/^\/lifts\/([^/]{1,256})\/state$/, "lift_state"],
  [/^\/dispensers\/([^/]{1,256})\/state$/, "dispenser_state"],
  [/^\/ingestors\/([^/]{1,256})\/state$/, "ingestor_state"],
  [/^\/fleets\/([^/]{1,256})\/state$/, "fleet_state"],
  [/^\/fleets\/([^/]{1,256})\/log$/, "fleet_log"],
  [/^\/tasks\/([^/]{1,256})\/state$/, "task_state"],
  [/^\/tasks\/([^/]{1,256})\/log$/, "task_log"],
];

export const MAX_ROOM_LENGTH = 300;

/** A room as a client sent it: URL-decoded first (as rmf-web does), then matched; null when unknown. */
export const parseRoom = (raw: string): ParsedRoom | null => {
  if (raw.length > MAX_ROOM_LENGTH * 3) return null;
  let room: string;
  try {
    room = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (room.length > MAX_ROOM_LENGTH) return null;
  const fixed = FIXED[room];
  if (fixed) return { kind: fixed, room };
  for (const [pattern, kind] of NAMED) {
    const m = pattern.exec(room);
    if (m) return { kind, room, name: m[1] };
  }
  return null;
};

/** A name that can stand inside a room (fleet, robot-free: fleets, doors, lifts, workcells, tasks). */
export const isRoomName = (name: string) => name.length >= 1 && name.length <= 256 && !name.includes("/");

export const rooms = {
  buildingMap: "/building_map",
  fireAlarmTrigger: "/building_map/fire_alarm_trigger",
  doorState: (door: string) => `/doors/${door}/state`,
  liftState: (lift: string) => `/lifts/${lift}/state`,
  dispenserState: (guid: string) => `/dispensers/${guid}/state`,
  ingestorState: (guid: string) => `/ingestors/${guid}/state`,
  fleetState: (fleet: string) => `/fleets/${fleet}/state`,
  fleetLog: (fleet: string) => `/fleets/${fleet}/log`,
  taskState: (task: string) => `/tasks/${task}/state`,
  taskLog: (task: string) => `/tasks/${task}/log`,
  alertRequests: "/alerts/requests",
  alertResponses: "/alerts/responses",
  beacons: "/beacons",
  rios: "/rios",
  deliveryAlerts: "/delivery_alerts",
} as const;
