import { z } from "zod";

/**
 * Open-RMF api-server payloads (rmf-web's pydantic models), exactly as they travel in rooms
 * and REST answers. rmf-web sends unset optional fields as `null`, never leaves them out, so
 * every optional field here parses a missing value to `null`: what main stores and re-emits
 * has the same keys as rmf-web's output whatever the adapter sent. Unknown keys are dropped
 * (pydantic's default), except in TaskEventLog, which rmf-web rejects them in.
 */

/** Optional and nullable, normalised to `null` when missing. */
const nil = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);
const int = z.number().int();
const millis = z.number().int();
/** Any JSON value (rmf-web's `Detail`, alert parameters, rio data). */
const json = z.unknown();

export const LOG_TIERS = ["uninitialized", "info", "warning", "error"] as const;
export const logEntrySchema = z.object({
  seq: int.nonnegative(),
  tier: z.enum(LOG_TIERS),
  unix_millis_time: millis,
  text: z.string(),
});
export type LogEntry = z.infer<typeof logEntrySchema>;

// ---------- fleets and robots ----------

export const ROBOT_STATUSES = ["uninitialized", "offline", "shutdown", "idle", "charging", "working", "error"] as const;
export type RobotStatus = (typeof ROBOT_STATUSES)[number];

export const locationSchema = z.object({ map: z.string(), x: z.number(), y: z.number(), yaw: z.number() });
export const issueSchema = z.object({
  category: nil(z.string()),
  detail: nil(z.union([z.record(z.string(), json), z.array(json), z.string()])),
});
export type Issue = z.infer<typeof issueSchema>;

export const commissionSchema = z.object({
  dispatch_tasks: nil(z.boolean()),
  direct_tasks: nil(z.boolean()),
  idle_behavior: nil(z.boolean()),
});
export const mutexGroupsSchema = z.object({ locked: nil(z.array(z.string())), requesting: nil(z.array(z.string())) });

export const robotStateSchema = z.object({
  name: nil(z.string()),
  status: nil(z.enum(ROBOT_STATUSES)),
  task_id: nil(z.string()),
  unix_millis_time: nil(millis),
  location: nil(locationSchema),
  battery: nil(z.number().min(0).max(1)),
  issues: nil(z.array(issueSchema)),
  commission: nil(commissionSchema),
  mutex_groups: nil(mutexGroupsSchema),
});
export type RobotState = z.infer<typeof robotStateSchema>;

export const fleetStateSchema = z.object({ name: nil(z.string()), robots: nil(z.record(z.string(), robotStateSchema)) });
export type FleetState = z.infer<typeof fleetStateSchema>;

export const fleetLogSchema = z.object({
  name: nil(z.string()),
  log: nil(z.array(logEntrySchema)),
  robots: nil(z.record(z.string(), z.array(logEntrySchema))),
});
export type FleetLog = z.infer<typeof fleetLogSchema>;

// ---------- tasks ----------

export const TASK_STATUSES = ["uninitialized", "blocked", "error", "failed", "queued", "standby", "underway", "delayed", "skipped", "canceled", "killed", "completed"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** A task in one of these never changes again (derived alerts and durations key on them). */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ["failed", "skipped", "canceled", "killed", "completed"];
export const EVENT_STATUSES = ["uninitialized", "blocked", "error", "failed", "standby", "underway", "delayed", "skipped", "canceled", "killed", "completed"] as const;
export const DISPATCH_STATUSES = ["queued", "selected", "dispatched", "failed_to_assign", "canceled_in_flight"] as const;

export const rmfErrorSchema = z.object({ code: nil(int.nonnegative()), category: nil(z.string()), detail: nil(z.string()) });
export type RmfError = z.infer<typeof rmfErrorSchema>;

export const bookingSchema = z.object({
  id: z.string(),
  unix_millis_earliest_start_time: nil(millis),
  unix_millis_request_time: nil(millis),
  priority: nil(z.union([z.record(z.string(), json), z.string()])),
  labels: nil(z.array(z.string())),
  requester: nil(z.string()),
});

const requestRecord = z.object({ unix_millis_request_time: millis, labels: z.array(z.string()) });
export const eventStateSchema = z.object({
  id: int,
  status: nil(z.enum(EVENT_STATUSES)),
  name: nil(z.string()),
  detail: nil(json),
  deps: nil(z.array(int.nonnegative())),
});
export const phaseSchema = z.object({
  id: int,
  category: nil(z.string()),
  detail: nil(json),
  unix_millis_start_time: nil(millis),
  unix_millis_finish_time: nil(millis),
  original_estimate_millis: nil(millis),
  estimate_millis: nil(millis),
  final_event_id: nil(int),
  events: nil(z.record(z.string(), eventStateSchema)),
  skip_requests: nil(z.record(z.string(), requestRecord.extend({ undo: nil(requestRecord) }))),
});
export type Phase = z.infer<typeof phaseSchema>;

export const taskStateSchema = z.object({
  booking: bookingSchema,
  category: nil(z.string()),
  detail: nil(json),
  unix_millis_start_time: nil(millis),
  unix_millis_finish_time: nil(millis),
  original_estimate_millis: nil(millis),
  estimate_millis: nil(millis),
  assigned_to: nil(z.object({ group: z.string(), name: z.string() })),
  status: nil(z.enum(TASK_STATUSES)),
  dispatch: nil(
    z.object({
      status: z.enum(DISPATCH_STATUSES),
      assignment: nil(z.object({ fleet_name: nil(z.string()), expected_robot_name: nil(z.string()) })),
      errors: nil(z.array(rmfErrorSchema)),
    }),
  ),
  phases: nil(z.record(z.string(), phaseSchema)),
  completed: nil(z.array(int)),
  active: nil(int),
  pending: nil(z.array(int)),
  interruptions: nil(z.record(z.string(), requestRecord.extend({ resumed_by: nil(z.object({ unix_millis_request_time: nil(millis), labels: z.array(z.string()) })) }))),
  cancellation: nil(requestRecord),
  killed: nil(requestRecord),
});
export type TaskState = z.infer<typeof taskStateSchema>;

export const taskEventLogSchema = z.strictObject({
  task_id: z.string(),
  log: nil(z.array(logEntrySchema)),
  phases: nil(z.record(z.string(), z.strictObject({ log: nil(z.array(logEntrySchema)), events: nil(z.record(z.string(), z.array(logEntrySchema))) }))),
});
export type TaskEventLog = z.infer<typeof taskEventLogSchema>;

// ---------- building: doors, lifts, dispensers, ingestors, map ----------

export const timeSchema = z.object({ sec: int, nanosec: int.min(0).max(999_999_999) });

/** DoorMode: 0 closed, 1 moving, 2 open, 3 offline, 4 unknown. */
export const DOOR_MODE = { closed: 0, moving: 1, open: 2, offline: 3, unknown: 4 } as const;
export const doorStateSchema = z.object({
  door_time: timeSchema,
  door_name: z.string(),
  current_mode: z.object({ value: int.min(0).max(4) }),
});
export type DoorState = z.infer<typeof doorStateSchema>;

/** door_state 0 closed/1 moving/2 open; motion_state 0 stopped/1 up/2 down/3 unknown; current_mode 0 unknown/1 human/2 agv/3 fire/4 offline/5 emergency. */
export const LIFT_DOOR = { closed: 0, moving: 1, open: 2 } as const;
export const LIFT_MOTION = { stopped: 0, up: 1, down: 2, unknown: 3 } as const;
export const LIFT_MODE = { unknown: 0, human: 1, agv: 2, fire: 3, offline: 4, emergency: 5 } as const;
export const liftStateSchema = z.object({
  lift_time: timeSchema,
  lift_name: z.string(),
  available_floors: z.array(z.string()),
  current_floor: z.string(),
  destination_floor: z.string(),
  door_state: int.min(0).max(2),
  motion_state: int.min(0).max(3),
  available_modes: z.array(int),
  current_mode: int.min(0).max(5),
  session_id: z.string(),
});
export type LiftState = z.infer<typeof liftStateSchema>;

/** mode 0 idle, 1 busy, 2 offline (dispensers and ingestors alike). */
const workcellStateSchema = z.object({
  time: timeSchema,
  guid: z.string(),
  mode: int.min(0).max(2),
  request_guid_queue: z.array(z.string()),
  seconds_remaining: z.number(),
});
export const dispenserStateSchema = workcellStateSchema;
export const ingestorStateSchema = workcellStateSchema;
export type DispenserState = z.infer<typeof dispenserStateSchema>;
export type IngestorState = z.infer<typeof ingestorStateSchema>;

export const graphParamSchema = z.object({
  name: z.string(),
  type: int,
  value_int: int,
  value_float: z.number(),
  value_string: z.string(),
  value_bool: z.boolean(),
});
export const graphSchema = z.object({
  name: z.string(),
  vertices: z.array(z.object({ x: z.number(), y: z.number(), name: z.string(), params: z.array(graphParamSchema) })),
  edges: z.array(z.object({ v1_idx: int.nonnegative(), v2_idx: int.nonnegative(), params: z.array(graphParamSchema), edge_type: int })),
  params: z.array(graphParamSchema),
});
export type Graph = z.infer<typeof graphSchema>;
export const doorSchema = z.object({
  name: z.string(),
  v1_x: z.number(),
  v1_y: z.number(),
  v2_x: z.number(),
  v2_y: z.number(),
  door_type: int,
  motion_range: z.number(),
  motion_direction: int,
});
export type Door = z.infer<typeof doorSchema>;
export const levelSchema = z.object({
  name: z.string(),
  elevation: z.number(),
  images: z.array(z.object({ name: z.string(), x_offset: z.number(), y_offset: z.number(), yaw: z.number(), scale: z.number(), encoding: z.string(), data: z.string() })),
  places: z.array(z.object({ name: z.string(), x: z.number(), y: z.number(), yaw: z.number(), position_tolerance: z.number(), yaw_tolerance: z.number() })),
  doors: z.array(doorSchema),
  nav_graphs: z.array(graphSchema),
  wall_graph: graphSchema,
});
export type Level = z.infer<typeof levelSchema>;
export const liftSchema = z.object({
  name: z.string(),
  levels: z.array(z.string()),
  doors: z.array(doorSchema),
  wall_graph: graphSchema,
  ref_x: z.number(),
  ref_y: z.number(),
  ref_yaw: z.number(),
  width: z.number(),
  depth: z.number(),
});
export type Lift = z.infer<typeof liftSchema>;
export const buildingMapSchema = z.object({ name: z.string(), levels: z.array(levelSchema), lifts: z.array(liftSchema) });
export type BuildingMap = z.infer<typeof buildingMapSchema>;

export const fireAlarmTriggerSchema = z.object({ unix_millis_time: millis, trigger: z.boolean() });
export type FireAlarmTrigger = z.infer<typeof fireAlarmTriggerSchema>;

// ---------- alerts, beacons, rios, delivery alerts ----------

export const ALERT_TIERS = ["info", "warning", "error"] as const;
export const alertRequestSchema = z.object({
  id: z.string().min(1).max(256),
  unix_millis_alert_time: millis,
  title: z.string(),
  subtitle: z.string(),
  message: z.string(),
  display: z.boolean(),
  tier: z.enum(ALERT_TIERS),
  responses_available: z.array(z.string()),
  alert_parameters: z.array(z.object({ name: z.string(), value: z.string() })),
  task_id: nil(z.string()),
});
export type AlertRequest = z.infer<typeof alertRequestSchema>;
export const alertResponseSchema = z.object({ id: z.string(), unix_millis_response_time: millis, response: z.string() });
export type AlertResponse = z.infer<typeof alertResponseSchema>;

export const beaconStateSchema = z.object({ id: z.string(), online: z.boolean(), category: nil(z.string()), activated: z.boolean(), level: nil(z.string()) });
export type BeaconState = z.infer<typeof beaconStateSchema>;
export const rioSchema = z.object({ id: z.string(), type: z.string(), data: z.record(z.string(), json) });
export type Rio = z.infer<typeof rioSchema>;
export const deliveryAlertSchema = z.object({
  id: z.string(),
  category: z.enum(["missing", "wrong", "obstructed", "cancelled"]),
  tier: z.enum(["warning", "error"]),
  action: z.enum(["waiting", "cancel", "override", "resume"]),
  task_id: z.string(),
  message: z.string(),
});
export type DeliveryAlert = z.infer<typeof deliveryAlertSchema>;
