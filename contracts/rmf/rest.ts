import { z } from "zod";
import { alertRequestSchema, rmfErrorSchema, taskStateSchema } from "./models";

/**
 * REST bodies and answers of the api-server (rmf-web's routes). Errors keep rmf-web's
 * shapes: 401/403/404/409/500 `{detail: "<text>"}`, 422 `{detail: [{type, loc, msg, input}]}`
 * (FastAPI), and RMF's own refusals `{success: false, errors: [{code, category, detail}]}`
 * (400 for dispatch and robot tasks, 200 for the other task commands).
 */

export const taskRequestSchema = z.object({
  unix_millis_earliest_start_time: z.number().int().optional(),
  unix_millis_request_time: z.number().int().optional(),
  priority: z.record(z.string(), z.unknown()).optional(),
  category: z.string().min(1),
  description: z.unknown().refine((d) => d !== undefined, "Field required"),
  labels: z.array(z.string()).optional(),
  requester: z.string().optional(),
  fleet_name: z.string().optional(),
});
export type TaskRequest = z.infer<typeof taskRequestSchema>;

export const dispatchTaskRequestSchema = z.object({ type: z.literal("dispatch_task_request"), request: taskRequestSchema });
export const robotTaskRequestSchema = z.object({ type: z.literal("robot_task_request"), robot: z.string().min(1), fleet: z.string().min(1), request: taskRequestSchema });
export type DispatchTaskRequest = z.infer<typeof dispatchTaskRequestSchema>;
export type RobotTaskRequest = z.infer<typeof robotTaskRequestSchema>;

const labels = z.array(z.string()).optional();
const taskCommand = <T extends string>(type: T) => z.object({ type: z.literal(type), task_id: z.string().min(1), labels });
export const cancelTaskRequestSchema = taskCommand("cancel_task_request");
export const killTaskRequestSchema = taskCommand("kill_task_request");
export const interruptTaskRequestSchema = taskCommand("interrupt_task_request");
export const resumeTaskRequestSchema = z.object({ type: z.literal("resume_task_request").optional(), for_task: z.string().optional(), for_tokens: z.array(z.string()).optional(), labels });
export const skipPhaseRequestSchema = z.object({ type: z.literal("skip_phase_request"), task_id: z.string().min(1), phase_id: z.number().int().nonnegative(), labels });
export const rewindTaskRequestSchema = z.object({ type: z.literal("rewind_task_request"), task_id: z.string().min(1), phase_id: z.number().int().nonnegative() });
export const undoPhaseSkipRequestSchema = z.object({ type: z.literal("undo_phase_skip_request"), for_task: z.string().min(1), for_tokens: z.array(z.string()).optional(), labels });
export const taskDiscoveryRequestSchema = z.object({ type: z.literal("task_discovery_request"), fleet_name: z.string().optional() });

/** Task commands by route (`POST /tasks/<route>`), each with its body schema. */
export const TASK_COMMAND_ROUTES = {
  cancel_task: cancelTaskRequestSchema,
  kill_task: killTaskRequestSchema,
  interrupt_task: interruptTaskRequestSchema,
  resume_task: resumeTaskRequestSchema,
  skip_phase: skipPhaseRequestSchema,
  rewind_task: rewindTaskRequestSchema,
  undo_skip_phase: undoPhaseSkipRequestSchema,
  task_discovery: taskDiscoveryRequestSchema,
} as const;
export type TaskCommandRoute = keyof typeof TASK_COMMAND_ROUTES;

/** RMF's answer to a task command: `{success: true, …}` or `{success: false, errors}`. */
export const rmfResponseSchema = z.union([
  z.looseObject({ success: z.literal(true) }),
  z.looseObject({ success: z.literal(false), errors: z.array(rmfErrorSchema) }),
]);
export type RmfResponse = z.infer<typeof rmfResponseSchema>;

export const taskDispatchResponseSchema = z.union([
  z.object({ success: z.literal(true), state: taskStateSchema }),
  z.object({ success: z.literal(false), errors: z.array(rmfErrorSchema) }),
]);
export type TaskDispatchResponse = z.infer<typeof taskDispatchResponseSchema>;

/** Error codes main itself answers with, in RMF's numbering. */
export const RMF_ERROR_CODES = { unknownTask: 4, rejected: 3 } as const;

/** `POST /doors/{name}/request`: mode 0 close, 2 open. */
export const doorRequestSchema = z.object({ mode: z.union([z.literal(0), z.literal(2)]) });
export type DoorRequest = z.infer<typeof doorRequestSchema>;

/** `POST /lifts/{name}/request`: request_type 0 end session, 1 AGV, 2 human; door_mode 0 closed, 2 open. */
export const liftRequestSchema = z.object({
  request_type: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  door_mode: z.union([z.literal(0), z.literal(2)]),
  destination: z.string().min(1),
  additional_session_ids: z.array(z.string()).optional(),
});
export type LiftRequest = z.infer<typeof liftRequestSchema>;

export const createAlertRequestSchema = alertRequestSchema;

/** FastAPI's 422 body. */
export const validationErrorSchema = z.object({
  detail: z.array(z.object({ type: z.string(), loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), input: z.unknown() })),
});
export type ValidationError = z.infer<typeof validationErrorSchema>;
export const detailErrorSchema = z.object({ detail: z.string() });

/** The task description shapes the simulator (and RMF's default task builders) understand. */
export const patrolDescriptionSchema = z.object({ places: z.array(z.string().min(1)).min(1), rounds: z.number().int().min(1).max(100).default(1) });
const deliveryLeg = z.object({
  place: z.string().min(1),
  handler: z.string().min(1),
  payload: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive(), compartment: z.string().optional() })).default([]),
});
export const deliveryDescriptionSchema = z.object({ pickup: deliveryLeg, dropoff: deliveryLeg });
export type PatrolDescription = z.infer<typeof patrolDescriptionSchema>;
export type DeliveryDescription = z.infer<typeof deliveryDescriptionSchema>;

/**
 * `GET /tasks` query parameters. Lists are comma-separated; time ranges are `a,b` (ms) or
 * `-N` (the last N ms); `label` is `key=value`; `order_by` is a comma-separated list of
 * fields, `-` for descending. limit defaults to 100, at most 1000.
 */
export const TASK_QUERY_ORDER_FIELDS = ["id", "category", "assigned_to", "status", "requester", "unix_millis_request_time", "unix_millis_start_time", "unix_millis_finish_time"] as const;
export const taskQuerySchema = z.object({
  task_id: z.string().optional(),
  category: z.string().optional(),
  requester: z.string().optional(),
  assigned_to: z.string().optional(),
  status: z.string().optional(),
  label: z.string().optional(),
  request_time_between: z.string().optional(),
  start_time_between: z.string().optional(),
  finish_time_between: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  order_by: z.string().optional(),
});
export type TaskQuery = z.infer<typeof taskQuerySchema>;
