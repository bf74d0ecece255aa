import { Prisma, type PrismaClient } from "@prisma/client";
import type pino from "pino";
import { TERMINAL_TASK_STATUSES, type AlertRequest, type AlertResponse, type FleetLog, type LogEntry, type RoomKind, type TaskEventLog, type TaskQuery, type TaskState } from "../../../contracts/rmf";

/**
 * Main's database, always behind its memory: changes are queued (latest value per key for
 * states, appends for logs) and written every `flushIntervalMs` in one statement per table,
 * so 10 Hz fleet updates cost one row per fleet per flush. `flush()` is awaited where a
 * reader or a caller needs durability (task queries, an accepted dispatch, shutdown).
 */
export type TaskRow = { state: TaskState; request?: unknown; durationMs?: number | null };
export type AlertRow = { request: AlertRequest; response?: AlertResponse | null };

type LogRow = { taskId: string; phase: string | null; event: string | null; entry: LogEntry };
type FleetLogRow = { fleet: string; robot: string | null; entry: LogEntry };

const CHUNK = 500;
const chunks = <T>(rows: T[]) => Array.from({ length: Math.ceil(rows.length / CHUNK) }, (_, i) => rows.slice(i * CHUNK, (i + 1) * CHUNK));

// Prisma's JSON filter for "the column is SQL NULL".
const DbNull = Prisma.DbNull;

const num = (v: bigint | number | null | undefined) => (v === null || v === undefined ? null : Number(v));

export const createPersistence = ({ db, log, flushIntervalMs = 200, onError }: { db: PrismaClient; log: pino.Logger; flushIntervalMs?: number; onError?: (table: string) => void }) => {
  let sticky = new Map<string, { kind: RoomKind; state: unknown }>();
  let tasks = new Map<string, TaskRow>();
  let alerts = new Map<string, AlertRow>();
  let taskLogs: LogRow[] = [];
  let fleetLogs: FleetLogRow[] = [];
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const exec = async (table: string, sql: string, rows: unknown[]) => {
    for (const part of chunks(rows)) {
      try {
        await db.$executeRawUnsafe(sql, JSON.stringify(part));
      } catch (error) {
        // A failed batch is logged and dropped: memory stays authoritative, the next change rewrites the row.
        onError?.(table);
        log.error({ table, rows: part.length, err: (error as Error).message }, "rmf write-behind batch failed");
      }
    }
  };

  const writeAll = async () => {
    const s = sticky, t = tasks, a = alerts, tl = taskLogs, fl = fleetLogs;
    sticky = new Map();
    tasks = new Map();
    alerts = new Map();
    taskLogs = [];
    fleetLogs = [];
    if (s.size)
      await exec(
        "sticky_state",
        `INSERT INTO "rmf"."sticky_state" (room, kind, state, "updatedAt")
         SELECT x.room, x.kind, x.state, now() FROM jsonb_to_recordset($1::jsonb) AS x(room text, kind text, state jsonb)
         ON CONFLICT (room) DO UPDATE SET kind = EXCLUDED.kind, state = EXCLUDED.state, "updatedAt" = now()`,
        [...s].map(([room, v]) => ({ room, kind: v.kind, state: v.state })),
      );
    if (t.size)
      await exec(
        "task",
        `INSERT INTO "rmf"."task" (id, category, status, requester, fleet, robot, labels, "requestTime", "startTime", "finishTime", "durationMs", state, request, "updatedAt")
         SELECT x.id, x.category, x.status, x.requester, x.fleet, x.robot, ARRAY(SELECT jsonb_array_elements_text(x.labels)),
                x."requestTime", x."startTime", x."finishTime", x."durationMs", x.state, x.request, now()
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, category text, status text, requester text, fleet text, robot text, labels jsonb,
              "requestTime" bigint, "startTime" bigint, "finishTime" bigint, "durationMs" bigint, state jsonb, request jsonb)
         ON CONFLICT (id) DO UPDATE SET category = EXCLUDED.category, status = EXCLUDED.status, requester = EXCLUDED.requester,
           fleet = EXCLUDED.fleet, robot = EXCLUDED.robot, labels = EXCLUDED.labels, "requestTime" = EXCLUDED."requestTime",
           "startTime" = EXCLUDED."startTime", "finishTime" = EXCLUDED."finishTime",
           "durationMs" = COALESCE(EXCLUDED."durationMs", "rmf"."task"."durationMs"), state = EXCLUDED.state,
           request = COALESCE(EXCLUDED.request, "rmf"."task".request), "updatedAt" = now()`,
        [...t].map(([id, { state, request, durationMs }]) => ({
          id,
          category: state.category,
          status: state.status,
          requester: state.booking.requester,
          fleet: state.assigned_to?.group ?? null,
          robot: state.assigned_to?.name ?? null,
          labels: state.booking.labels ?? [],
          requestTime: state.booking.unix_millis_request_time,
          startTime: state.unix_millis_start_time,
          finishTime: state.unix_millis_finish_time,
          durationMs: durationMs ?? null,
          state,
          request: request ?? null,
        })),
      );
    if (a.size)
      await exec(
        "alert",
        `INSERT INTO "rmf"."alert" (id, "taskId", "alertTime", request, response, "respondedAt")
         SELECT x.id, x."taskId", x."alertTime", x.request, x.response, x."respondedAt" FROM jsonb_to_recordset($1::jsonb)
           AS x(id text, "taskId" text, "alertTime" bigint, request jsonb, response jsonb, "respondedAt" bigint)
         ON CONFLICT (id) DO UPDATE SET request = EXCLUDED.request, "taskId" = EXCLUDED."taskId", "alertTime" = EXCLUDED."alertTime",
           response = COALESCE(EXCLUDED.response, "rmf"."alert".response), "respondedAt" = COALESCE(EXCLUDED."respondedAt", "rmf"."alert"."respondedAt")`,
        [...a].map(([id, { request, response }]) => ({ id, taskId: request.task_id, alertTime: request.unix_millis_alert_time, request, response: response ?? null, respondedAt: response?.unix_millis_response_time ?? null })),
      );
    if (tl.length)
      await exec(
        "task_log",
        `INSERT INTO "rmf"."task_log" ("taskId", phase, event, seq, tier, "unixMillisTime", text)
         SELECT x."taskId", x.phase, x.event, x.seq, x.tier, x."unixMillisTime", x.text FROM jsonb_to_recordset($1::jsonb)
           AS x("taskId" text, phase text, event text, seq int, tier text, "unixMillisTime" bigint, text text)`,
        tl.map((r) => ({ taskId: r.taskId, phase: r.phase, event: r.event, seq: r.entry.seq, tier: r.entry.tier, unixMillisTime: r.entry.unix_millis_time, text: r.entry.text })),
      );
    if (fl.length)
      await exec(
        "fleet_log",
        `INSERT INTO "rmf"."fleet_log" (fleet, robot, seq, tier, "unixMillisTime", text)
         SELECT x.fleet, x.robot, x.seq, x.tier, x."unixMillisTime", x.text FROM jsonb_to_recordset($1::jsonb)
           AS x(fleet text, robot text, seq int, tier text, "unixMillisTime" bigint, text text)`,
        fl.map((r) => ({ fleet: r.fleet, robot: r.robot, seq: r.entry.seq, tier: r.entry.tier, unixMillisTime: r.entry.unix_millis_time, text: r.entry.text })),
      );
  };

  const pendingCount = () => sticky.size + tasks.size + alerts.size + taskLogs.length + fleetLogs.length;
  /** Writes everything queued so far; resolves once it is in the database. */
  const flush = () => (running = running.then(() => (pendingCount() ? writeAll() : undefined)));
  const timer = setInterval(() => {
    if (pendingCount()) void flush();
  }, flushIntervalMs);
  timer.unref();

  const TERMINAL = TERMINAL_TASK_STATUSES as readonly string[];

  return {
    pendingCount,
    flush,
    sticky: (room: string, kind: RoomKind, state: unknown) => {
      if (!closed) sticky.set(room, { kind, state });
    },
    task: (row: TaskRow) => {
      if (closed) return;
      const previous = tasks.get(row.state.booking.id);
      tasks.set(row.state.booking.id, { ...row, request: row.request ?? previous?.request, durationMs: row.durationMs ?? previous?.durationMs });
    },
    alert: (row: AlertRow) => {
      if (!closed) alerts.set(row.request.id, { ...row, response: row.response ?? alerts.get(row.request.id)?.response });
    },
    taskLog: (delta: TaskEventLog) => {
      if (closed) return;
      for (const entry of delta.log ?? []) taskLogs.push({ taskId: delta.task_id, phase: null, event: null, entry });
      for (const [phase, p] of Object.entries(delta.phases ?? {})) {
        for (const entry of p.log ?? []) taskLogs.push({ taskId: delta.task_id, phase, event: null, entry });
        for (const [event, entries] of Object.entries(p.events ?? {})) for (const entry of entries) taskLogs.push({ taskId: delta.task_id, phase, event, entry });
      }
    },
    fleetLog: (delta: FleetLog & { name: string }) => {
      if (closed) return;
      for (const entry of delta.log ?? []) fleetLogs.push({ fleet: delta.name, robot: null, entry });
      for (const [robot, entries] of Object.entries(delta.robots ?? {})) for (const entry of entries) fleetLogs.push({ fleet: delta.name, robot, entry });
    },

    /** Everything main keeps in memory: sticky states, unfinished and recent tasks, recent alerts. */
    restore: async ({ recentTasks, recentAlerts }: { recentTasks: number; recentAlerts: number }) => {
      const stickyRows = await db.rmfStickyState.findMany();
      const open = await db.rmfTask.findMany({ where: { OR: [{ status: null }, { status: { notIn: [...TERMINAL] } }] }, select: { state: true } });
      const recent = await db.rmfTask.findMany({ where: { status: { in: [...TERMINAL] } }, orderBy: { updatedAt: "desc" }, take: recentTasks, select: { state: true } });
      const alertRows = await db.rmfAlert.findMany({ orderBy: { alertTime: "desc" }, take: recentAlerts });
      const unanswered = await db.rmfAlert.findMany({ where: { response: { equals: DbNull } } });
      const byId = new Map([...alertRows, ...unanswered].map((a) => [a.id, a]));
      return {
        sticky: stickyRows.map((r) => ({ room: r.room, kind: r.kind as RoomKind, state: r.state as unknown })),
        tasks: [...recent.reverse(), ...open].map((r) => r.state as unknown as TaskState),
        alerts: [...byId.values()].sort((x, y) => Number(x.alertTime - y.alertTime)).map((a) => ({ request: a.request as unknown as AlertRequest, response: (a.response ?? null) as unknown as AlertResponse | null })),
      };
    },

    loadTask: async (id: string) => {
      await flush();
      const row = await db.rmfTask.findUnique({ where: { id }, select: { state: true, request: true } });
      return row ? { state: row.state as unknown as TaskState, request: row.request as unknown } : null;
    },
    taskRequests: async (ids: string[]) => {
      await flush();
      const rows = await db.rmfTask.findMany({ where: { id: { in: ids } }, select: { id: true, request: true } });
      const byId = new Map(rows.map((r) => [r.id, r.request]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    queryTasks: async (where: Prisma.RmfTaskWhereInput, orderBy: Prisma.RmfTaskOrderByWithRelationInput[], q: Pick<TaskQuery, "limit" | "offset">) => {
      await flush();
      const rows = await db.rmfTask.findMany({ where, orderBy: orderBy.length ? orderBy : [{ requestTime: "desc" }, { id: "asc" }], take: q.limit, skip: q.offset, select: { state: true } });
      return rows.map((r) => r.state as unknown as TaskState);
    },
    taskLogBetween: async (taskId: string, from: number, to: number): Promise<TaskEventLog> => {
      await flush();
      const rows = await db.rmfTaskLog.findMany({ where: { taskId, unixMillisTime: { gte: BigInt(from), lte: BigInt(to) } }, orderBy: [{ unixMillisTime: "asc" }, { id: "asc" }] });
      const out: TaskEventLog = { task_id: taskId, log: [], phases: {} };
      for (const r of rows) {
        const entry: LogEntry = { seq: r.seq, tier: r.tier as LogEntry["tier"], unix_millis_time: num(r.unixMillisTime)!, text: r.text };
        if (r.phase === null) {
          out.log!.push(entry);
          continue;
        }
        const phase = (out.phases![r.phase] ??= { log: [], events: {} });
        if (r.event === null) phase.log!.push(entry);
        else (phase.events![r.event] ??= []).push(entry);
      }
      return out;
    },
    fleetLogBetween: async (fleet: string, from: number, to: number): Promise<FleetLog> => {
      await flush();
      const rows = await db.rmfFleetLog.findMany({ where: { fleet, unixMillisTime: { gte: BigInt(from), lte: BigInt(to) } }, orderBy: [{ unixMillisTime: "asc" }, { id: "asc" }] });
      const out = { name: fleet, log: [] as LogEntry[], robots: {} as Record<string, LogEntry[]> };
      for (const r of rows) {
        const entry: LogEntry = { seq: r.seq, tier: r.tier as LogEntry["tier"], unix_millis_time: num(r.unixMillisTime)!, text: r.text };
        if (r.robot === null) out.log.push(entry);
        else (out.robots[r.robot] ??= []).push(entry);
      }
      return out;
    },
    alertsFor: async ({ taskId, unresponded }: { taskId?: string; unresponded?: boolean }) => {
      await flush();
      const rows = await db.rmfAlert.findMany({ where: { ...(taskId !== undefined ? { taskId } : {}), ...(unresponded ? { response: { equals: DbNull } } : {}) }, orderBy: { alertTime: "asc" }, take: 1000 });
      return rows.map((a) => a.request as unknown as AlertRequest);
    },
    loadAlert: async (id: string) => {
      await flush();
      const a = await db.rmfAlert.findUnique({ where: { id } });
      return a ? { request: a.request as unknown as AlertRequest, response: (a.response ?? null) as unknown as AlertResponse | null } : null;
    },
    close: async () => {
      clearInterval(timer);
      await flush();
      closed = true;
    },
  };
};
export type Persistence = ReturnType<typeof createPersistence>;
