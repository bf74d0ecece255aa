import type { Prisma } from "@prisma/client";
import type { z } from "zod";
import {
  alertRequestSchema,
  dispatchTaskRequestSchema,
  doorRequestSchema,
  liftRequestSchema,
  RMF_ERROR_CODES,
  RMF_PERMISSIONS,
  rmfResponseSchema,
  robotTaskRequestSchema,
  TASK_COMMAND_ROUTES,
  TASK_QUERY_ORDER_FIELDS,
  taskDispatchResponseSchema,
  taskQuerySchema,
  type AlertResponse,
  type BuildingMap,
  type FleetState,
  type TaskCommandRoute,
} from "../../../contracts/rmf";
import { ApiError, notFound, parseOr422, withStatus, type ApiContext, type createApiRouter } from "../lib/api-router";
import { BridgeTimeoutError, BridgeUnavailableError, type BridgeLink } from "./bridge-link";
import type { Persistence } from "./persist";
import type { RmfState } from "./state";

/**
 * The api-server's REST routes (reference/rmf.md). Reads answer from memory where main keeps
 * the value (states, fleets, the map); task queries and logs read the database after
 * flushing what is queued. Commands go to RMF over the bridge and answer like rmf-web:
 * dispatch refused → 400 `{success:false, errors}`, other task commands → 200 with RMF's
 * answer, no answer in time → 500 `{detail: "rmf service timed out"}`.
 */
type Router = ReturnType<typeof createApiRouter>;

const list = (v: string | null | undefined) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined);

/** `a,b` (ms) or `-N` (the last N ms) → [from, to]; 422 otherwise. */
export const parseBetween = (value: string, name: string, now: number): [number, number] => {
  const rel = /^-(\d+)$/.exec(value);
  if (rel) return [now - Number(rel[1]), now];
  const abs = /^(\d+),(\d+)$/.exec(value);
  if (abs) return [Number(abs[1]), Number(abs[2])];
  throw new ApiError(422, [{ type: "value_error", loc: ["query", name], msg: "expected 'a,b' (unix ms) or '-N' (the last N ms)", input: value }]);
};

const ORDER_COLUMNS: Record<(typeof TASK_QUERY_ORDER_FIELDS)[number], keyof Prisma.RmfTaskOrderByWithRelationInput> = {
  id: "id",
  category: "category",
  assigned_to: "robot",
  status: "status",
  requester: "requester",
  unix_millis_request_time: "requestTime",
  unix_millis_start_time: "startTime",
  unix_millis_finish_time: "finishTime",
};

const mapDoors = (map: BuildingMap | undefined) => (map?.levels ?? []).flatMap((l) => l.doors);

const query = (ctx: ApiContext) => Object.fromEntries(ctx.query.entries());
const requiredBool = (ctx: ApiContext, name: string) => {
  const v = ctx.query.get(name);
  if (v === null) throw new ApiError(422, [{ type: "missing", loc: ["query", name], msg: "Field required", input: null }]);
  if (!["true", "false", "1", "0"].includes(v)) throw new ApiError(422, [{ type: "bool_parsing", loc: ["query", name], msg: "Input should be a valid boolean", input: v }]);
  return v === "true" || v === "1";
};
const requiredString = (ctx: ApiContext, name: string) => {
  const v = ctx.query.get(name);
  if (!v) throw new ApiError(422, [{ type: "missing", loc: ["query", name], msg: "Field required", input: null }]);
  return v;
};

export const registerRestRoutes = ({ router, state, persist, bridge, now = Date.now }: { router: Router; state: RmfState; persist: Persistence; bridge: BridgeLink; now?: () => number }) => {
  const { route } = router;

  /** Calls RMF's task API; maps a silent or absent RMF to rmf-web's error answers. */
  const callRmf = async (jsonMsg: Record<string, unknown>, fleet?: string) => {
    try {
      return await bridge.callTaskApi(jsonMsg, { fleet });
    } catch (error) {
      if (error instanceof BridgeTimeoutError) throw new ApiError(500, "rmf service timed out");
      if (error instanceof BridgeUnavailableError) throw new ApiError(503, "rmf service unavailable: no RMF bridge connected");
      throw error;
    }
  };
  const checked = <T extends z.ZodType>(schema: T, answer: unknown): z.infer<T> => {
    const r = schema.safeParse(answer);
    if (!r.success) throw new ApiError(500, "invalid answer from rmf");
    return r.data;
  };

  const fleetOf = (name: string) => state.stickyOf("fleet_state", name) as FleetState | undefined;
  const requireRobot = (fleet: string, robot: string) => {
    const f = fleetOf(fleet);
    if (!f) throw new ApiError(404, `fleet '${fleet}' not found`);
    if (!f.robots?.[robot]) throw new ApiError(404, `robot '${robot}' not found in fleet '${fleet}'`);
  };

  route("GET", "/time", "public", async () => now());
  route("GET", "/user", "token", async ({ user }) => ({ user: user!.username, is_admin: user!.permissions.has("admin"), roles: [] }));
  route("GET", "/permissions", "token", async ({ user }) => RMF_PERMISSIONS.filter((p) => user!.permissions.has("admin") || user!.permissions.has(p)).map((action) => ({ authz_grp: "", action })));

  // ---------- tasks: commands ----------
  const dispatch = async (request: Record<string, unknown>, taskRequest: unknown, fleet?: string) => {
    const answer = checked(taskDispatchResponseSchema, await callRmf(request, fleet));
    if (!answer.success) return withStatus(400, answer);
    state.taskState(answer.state, { request: taskRequest });
    // The caller was told the task exists: make sure a crash right now cannot lose it.
    await persist.flush();
    return answer;
  };
  route("POST", "/tasks/dispatch_task", "task_submit", async (ctx) => {
    const body = parseOr422(dispatchTaskRequestSchema, await ctx.body());
    return dispatch(body, body.request, body.request.fleet_name);
  });
  route("POST", "/tasks/robot_task", "task_submit", async (ctx) => {
    const body = parseOr422(robotTaskRequestSchema, await ctx.body());
    requireRobot(body.fleet, body.robot);
    return dispatch(body, body.request, body.fleet);
  });
  const COMMAND_PERMISSION: Record<TaskCommandRoute, "task_cancel" | "task_submit"> = {
    cancel_task: "task_cancel",
    kill_task: "task_cancel",
    interrupt_task: "task_cancel",
    skip_phase: "task_cancel",
    rewind_task: "task_cancel",
    resume_task: "task_submit",
    undo_skip_phase: "task_submit",
    task_discovery: "task_submit",
  };
  for (const [name, schema] of Object.entries(TASK_COMMAND_ROUTES) as [TaskCommandRoute, (typeof TASK_COMMAND_ROUTES)[TaskCommandRoute]][]) {
    route("POST", `/tasks/${name}`, COMMAND_PERMISSION[name], async (ctx) => {
      const body = parseOr422(schema as z.ZodType<Record<string, unknown>>, await ctx.body());
      const taskId = (body.task_id ?? body.for_task) as string | undefined;
      let fleet: string | undefined;
      if (taskId !== undefined) {
        const task = await state.task(taskId);
        if (!task) return { success: false, errors: [{ code: RMF_ERROR_CODES.unknownTask, category: "Unknown task", detail: taskId }] };
        fleet = task.assigned_to?.group;
      }
      return checked(rmfResponseSchema, await callRmf(body, fleet ?? (body.fleet_name as string | undefined)));
    });
  }

  // ---------- tasks: queries ----------
  route("GET", "/tasks", "task_read", async (ctx) => {
    const q = parseOr422(taskQuerySchema, query(ctx), "query");
    const t = now();
    const where: Prisma.RmfTaskWhereInput = {};
    if (q.task_id) where.id = { in: list(q.task_id) };
    if (q.category) where.category = { in: list(q.category) };
    if (q.requester) where.requester = { in: list(q.requester) };
    if (q.assigned_to) where.robot = { in: list(q.assigned_to) };
    if (q.status) where.status = { in: list(q.status) };
    if (q.label) where.labels = { hasEvery: list(q.label)! };
    const range = (value: string | undefined, name: string) => {
      if (!value) return undefined;
      const [from, to] = parseBetween(value, name, t);
      return { gte: BigInt(from), lte: BigInt(to) };
    };
    if (q.request_time_between) where.requestTime = range(q.request_time_between, "request_time_between");
    if (q.start_time_between) where.startTime = range(q.start_time_between, "start_time_between");
    if (q.finish_time_between) where.finishTime = range(q.finish_time_between, "finish_time_between");
    const orderBy = (list(q.order_by) ?? []).map((field) => {
      const desc = field.startsWith("-");
      const name = (desc ? field.slice(1) : field) as (typeof TASK_QUERY_ORDER_FIELDS)[number];
      if (!Object.hasOwn(ORDER_COLUMNS, name)) throw new ApiError(422, [{ type: "value_error", loc: ["query", "order_by"], msg: `unknown field '${name}'; one of ${TASK_QUERY_ORDER_FIELDS.join(", ")}`, input: q.order_by }]);
      return { [ORDER_COLUMNS[name]]: { sort: desc ? "desc" : "asc", nulls: "last" } } as Prisma.RmfTaskOrderByWithRelationInput;
    });
    return persist.queryTasks(where, orderBy, q);
  });
  route("GET", "/tasks/requests", "task_read", async (ctx) => persist.taskRequests(list(ctx.query.get("task_ids")) ?? []));
  route("GET", "/tasks/:id/state", "task_read", async ({ params }) => (await state.task(params[0])) ?? Promise.reject(notFound()));
  route("GET", "/tasks/:id/request", "task_read", async ({ params }) => {
    const row = await persist.loadTask(params[0]);
    if (!row || row.request === null || row.request === undefined) throw notFound();
    return row.request;
  });
  route("GET", "/tasks/:id/log", "task_read", async (ctx) => {
    if (!(await state.task(ctx.params[0]))) throw notFound();
    const [from, to] = parseBetween(ctx.query.get("between") ?? "-60000", "between", now());
    return persist.taskLogBetween(ctx.params[0], from, to);
  });

  // ---------- doors, lifts, dispensers, ingestors, map ----------
  const buildingMap = () => state.stickyOf("building_map") as BuildingMap | undefined;
  route("GET", "/building_map", "token", async () => buildingMap() ?? Promise.reject(notFound()));
  route("GET", "/building_map/previous_fire_alarm_trigger", "token", async () => state.stickyOf("fire_alarm_trigger") ?? Promise.reject(notFound()));
  route("POST", "/building_map/reset_fire_alarm_trigger", "admin", async () => {
    const trigger = { unix_millis_time: now(), trigger: false };
    bridge.publish("fire_alarm_reset", { unix_millis_time: trigger.unix_millis_time });
    state.setSticky("fire_alarm_trigger", undefined, trigger);
    return trigger;
  });

  route("GET", "/doors", "token", async () => mapDoors(buildingMap()));
  route("GET", "/doors/:name/state", "token", async ({ params }) => state.stickyOf("door_state", params[0]) ?? Promise.reject(notFound()));
  route("POST", "/doors/:name/request", "door_control", async (ctx) => {
    const door = ctx.params[0];
    const body = parseOr422(doorRequestSchema, await ctx.body());
    if (!state.stickyOf("door_state", door) && !mapDoors(buildingMap()).some((d) => d.name === door)) throw new ApiError(404, `door '${door}' not found`);
    const sent = bridge.publish("adapter_door_requests", { door_name: door, requested_mode: { value: body.mode }, requester_id: ctx.user!.username, request_time: rosTime(now()) }, `door_state:${door}`);
    if (!sent) throw new ApiError(503, "rmf service unavailable: no RMF bridge connected");
    return null;
  });

  route("GET", "/lifts", "token", async () => buildingMap()?.lifts ?? []);
  route("GET", "/lifts/:name/state", "token", async ({ params }) => state.stickyOf("lift_state", params[0]) ?? Promise.reject(notFound()));
  route("POST", "/lifts/:name/request", "lift_control", async (ctx) => {
    const name = ctx.params[0];
    const body = parseOr422(liftRequestSchema, await ctx.body());
    const lift = buildingMap()?.lifts.find((l) => l.name === name);
    const liftState = state.stickyOf("lift_state", name) as { available_floors: string[] } | undefined;
    if (!lift && !liftState) throw new ApiError(404, `lift '${name}' not found`);
    const floors = lift?.levels ?? liftState?.available_floors ?? [];
    if (!floors.includes(body.destination)) throw new ApiError(422, [{ type: "value_error", loc: ["body", "destination"], msg: `not a floor of ${name}: ${floors.join(", ")}`, input: body.destination }]);
    const sessions = [ctx.user!.username, ...(body.additional_session_ids ?? [])];
    let sent = false;
    for (const session of sessions)
      sent = bridge.publish("adapter_lift_requests", { lift_name: name, session_id: session, request_type: body.request_type, destination_floor: body.destination, door_state: body.door_mode, request_time: rosTime(now()) }, `lift_state:${name}`) || sent;
    if (!sent) throw new ApiError(503, "rmf service unavailable: no RMF bridge connected");
    return null;
  });

  for (const kind of ["dispenser", "ingestor"] as const) {
    route("GET", `/${kind}s`, "token", async () => state.stickyByKind(`${kind}_state`).map((s) => ({ guid: (s as { guid: string }).guid })));
    route("GET", `/${kind}s/:guid/state`, "token", async ({ params }) => state.stickyOf(`${kind}_state`, params[0]) ?? Promise.reject(notFound()));
  }

  // ---------- fleets ----------
  route("GET", "/fleets", "token", async () => state.stickyByKind("fleet_state"));
  route("GET", "/fleets/:name/state", "token", async ({ params }) => fleetOf(params[0]) ?? Promise.reject(notFound()));
  route("GET", "/fleets/:name/log", "token", async (ctx) => {
    if (!fleetOf(ctx.params[0])) throw notFound();
    const [from, to] = parseBetween(ctx.query.get("between") ?? "-60000", "between", now());
    return persist.fleetLogBetween(ctx.params[0], from, to);
  });
  const commission = async (ctx: ApiContext, on: boolean) => {
    const fleet = ctx.params[0];
    const robot = requiredString(ctx, "robot_name");
    const reassign = on ? false : requiredBool(ctx, "reassign_tasks");
    const idle = on ? true : requiredBool(ctx, "allow_idle_behavior");
    requireRobot(fleet, robot);
    return callRmf(
      {
        type: "robot_commission_request",
        robot: { fleet, robot },
        commission: { dispatch_tasks: on, direct_tasks: on, idle_behavior: idle },
        ...(on ? {} : { pending_dispatch_tasks_policy: reassign ? "reassign" : "complete" }),
      },
      fleet,
    );
  };
  route("POST", "/fleets/:name/decommission", "admin", (ctx) => commission(ctx, false));
  route("POST", "/fleets/:name/recommission", "admin", (ctx) => commission(ctx, true));
  route("POST", "/fleets/:name/unlock_mutex_group", "admin", async (ctx) => {
    const fleet = ctx.params[0];
    const robot = requiredString(ctx, "robot_name");
    const group = requiredString(ctx, "mutex_group");
    requireRobot(fleet, robot);
    if (!bridge.publish("mutex_group_manual_release", { fleet, robot, mutex_groups: [group] })) throw new ApiError(503, "rmf service unavailable: no RMF bridge connected");
    return null;
  });

  // ---------- alerts ----------
  const findAlert = async (id: string) => state.alert(id) ?? (await persist.loadAlert(id)) ?? undefined;
  route("POST", "/alerts/request", "admin", async (ctx) => {
    const request = parseOr422(alertRequestSchema, await ctx.body());
    state.alertRequest(request);
    return withStatus(201, request);
  });
  route("GET", "/alerts/request/:id", "task_read", async ({ params }) => (await findAlert(params[0]))?.request ?? Promise.reject(notFound()));
  route("GET", "/alerts/request/:id/response", "task_read", async ({ params }) => (await findAlert(params[0]))?.response ?? Promise.reject(notFound()));
  route("POST", "/alerts/request/:id/respond", "task_submit", async (ctx) => {
    const alert = await findAlert(ctx.params[0]);
    if (!alert) throw notFound();
    const response = requiredString(ctx, "response");
    if (alert.response) throw new ApiError(409, `alert '${alert.request.id}' was already answered`);
    if (!alert.request.responses_available.includes(response)) throw new ApiError(400, `'${response}' is not one of ${JSON.stringify(alert.request.responses_available)}`);
    const answer: AlertResponse = { id: alert.request.id, unix_millis_response_time: now(), response };
    state.alertResponse(answer);
    bridge.publish("alert_responses", answer);
    return withStatus(201, answer);
  });
  route("GET", "/alerts/unresponded_requests", "task_read", async () => state.alertsInMemory().filter((a) => !a.response).map((a) => a.request));
  route("GET", "/alerts/requests/task/:task_id", "task_read", async (ctx) => {
    const u = ctx.query.get("unresponded");
    return persist.alertsFor({ taskId: ctx.params[0], unresponded: u === "true" || u === "1" });
  });

  route("GET", "/beacons", "token", async () => state.beacons());

  // rmf-web's admin API (users, roles) is not served; the console administers its own users.
  for (const method of ["GET", "POST", "PUT", "DELETE"]) route(method, "/admin(?:/.*)?", "admin", async () => Promise.reject(notFound()));
};

const rosTime = (ms: number) => ({ sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1_000_000 });
