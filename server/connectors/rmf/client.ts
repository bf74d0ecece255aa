import "server-only";
import { z } from "zod";
import {
  alertRequestSchema,
  alertResponseSchema,
  buildingMapSchema,
  doorSchema,
  fleetStateSchema,
  liftSchema,
  rmfResponseSchema,
  taskDispatchResponseSchema,
  taskEventLogSchema,
  taskStateSchema,
  type DoorRequest,
  type LiftRequest,
  type RmfPermission,
  type TaskRequest,
} from "../../../contracts/rmf";
import { createUpstreamClient } from "../kit/http-client";
import type { TokenMinter } from "./token";

/**
 * RMF answers errors FastAPI-style: `{detail: "<text>"}`, 422 `{detail: [{loc, msg}]}`, and
 * RMF's own refusals `{success: false, errors: [{code, category, detail}]}`. This reads them
 * into the kit's `{ message, fields }` (a 422's `loc` without its leading `body`/`query` is the field).
 */
const ZDetail = z.object({ detail: z.union([z.string(), z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string() }))]) });
const ZRefusal = z.object({ success: z.literal(false), errors: z.array(z.object({ category: z.string().nullish(), detail: z.string().nullish() })) });
export const parseRmfError = (status: number, body: unknown) => {
  const refusal = ZRefusal.safeParse(body);
  if (refusal.success) return { error: "rejected", message: refusal.data.errors.map((e) => [e.category, e.detail].filter(Boolean).join(": ")).join("; ") || "refused by RMF" };
  const parsed = ZDetail.safeParse(body);
  if (!parsed.success) return undefined;
  const { detail } = parsed.data;
  if (typeof detail === "string") return { error: `http_${status}`, message: detail };
  const fields = detail.map((d) => ({ path: d.loc.filter((p, i) => !(i === 0 && (p === "body" || p === "query"))).join("."), message: d.msg }));
  return { error: "invalid", message: fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join("; "), fields };
};

export type RmfClientOptions = {
  /** Where the console reads (a proxy, or an rmf-web api-server). */
  baseUrl: string;
  /** Where commands go (main; the same as baseUrl against rmf-web). */
  mainUrl: string;
  mint: TokenMinter;
  timeoutMs?: number;
};

/** What the console itself may read with: every room and query, no commands. */
export const CONSOLE_USER = "switchyard-console";
export const CONSOLE_PERMISSIONS: RmfPermission[] = ["task_read"];
/** What a console user with `robots.command` may do at RMF (a user without it gets no command token at all). */
export const COMMAND_PERMISSIONS: RmfPermission[] = ["task_read", "task_submit", "task_cancel", "door_control", "lift_control"];

const ZTaskStates = z.array(taskStateSchema);
const ZNull = z.null();

/**
 * The RMF api-server's REST routes on the kit's client, every answer checked against
 * contracts/rmf. Reads carry the console's own token; commands carry a token signed for the
 * acting user, so main's logs and lift sessions name the person, and main enforces what the
 * token allows as well.
 */
export const createRmfClient = ({ baseUrl, mainUrl, mint, timeoutMs = 10_000 }: RmfClientOptions) => {
  const readToken = () => mint(CONSOLE_USER, CONSOLE_PERMISSIONS);
  const reader = async () => createUpstreamClient({ upstream: "rmf", label: "RMF api-server", baseUrl, token: await readToken(), timeoutMs, credentialsHint: "RMF_JWT_SECRET", parseError: parseRmfError });
  const commander = async (user: string) =>
    createUpstreamClient({ upstream: "rmf", label: "RMF main", baseUrl: mainUrl, token: await mint(user, COMMAND_PERMISSIONS), timeoutMs, credentialsHint: "RMF_JWT_SECRET", parseError: parseRmfError });
  const get = async <S extends z.ZodType>(path: string, schema: S, options: { params?: Record<string, string>; query?: Record<string, string | number | undefined>; signal?: AbortSignal } = {}) =>
    (await reader()).get(path, { ...options, schema });

  return {
    url: baseUrl.replace(/\/+$/, ""),
    mainUrl: mainUrl.replace(/\/+$/, ""),
    readToken,

    buildingMap: (signal?: AbortSignal) => get("/building_map", buildingMapSchema, { signal }),
    fleets: (signal?: AbortSignal) => get("/fleets", z.array(fleetStateSchema), { signal }),
    doors: (signal?: AbortSignal) => get("/doors", z.array(doorSchema), { signal }),
    lifts: (signal?: AbortSignal) => get("/lifts", z.array(liftSchema), { signal }),
    tasks: (query: Record<string, string | number | undefined>, signal?: AbortSignal) => get("/tasks", ZTaskStates, { query, signal }),
    task: (id: string, signal?: AbortSignal) => get("/tasks/:id/state", taskStateSchema, { params: { id }, signal }),
    taskLog: (id: string, between = "-3600000") => get("/tasks/:id/log", taskEventLogSchema, { params: { id }, query: { between } }),
    /** Dispenser or ingestor guids (`[{guid}]`). */
    workcells: async (kind: "dispensers" | "ingestors") => (await get(`/${kind}`, z.array(z.object({ guid: z.string() })))).map((w) => w.guid).sort(),
    unrespondedAlerts: (signal?: AbortSignal) => get("/alerts/unresponded_requests", z.array(alertRequestSchema), { signal }),

    dispatchTask: async (user: string, request: TaskRequest, signal?: AbortSignal) =>
      (await commander(user)).post("/tasks/dispatch_task", { body: { type: "dispatch_task_request", request }, schema: taskDispatchResponseSchema, signal }),
    taskCommand: async (user: string, route: "cancel_task" | "kill_task", taskId: string, signal?: AbortSignal) =>
      (await commander(user)).post(`/tasks/${route}`, { body: { type: `${route}_request`, task_id: taskId, labels: [`by:${user}`] }, schema: rmfResponseSchema, signal }),
    doorRequest: async (user: string, door: string, body: DoorRequest, signal?: AbortSignal) =>
      (await commander(user)).post("/doors/:name/request", { params: { name: door }, body, schema: ZNull, signal }),
    liftRequest: async (user: string, lift: string, body: LiftRequest, signal?: AbortSignal) =>
      (await commander(user)).post("/lifts/:name/request", { params: { name: lift }, body, schema: ZNull, signal }),
    respondAlert: async (user: string, id: string, response: string, signal?: AbortSignal) =>
      (await commander(user)).post("/alerts/request/:id/respond", { params: { id }, query: { response }, schema: alertResponseSchema, signal }),
  };
};

export type RmfClient = ReturnType<typeof createRmfClient>;
