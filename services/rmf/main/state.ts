import { randomUUID } from "node:crypto";
import type pino from "pino";
import { Counter, Histogram, type Registry } from "prom-client";
import {
  parseRoom,
  ROOM_SPECS,
  rooms,
  TERMINAL_TASK_STATUSES,
  type AlertRequest,
  type AlertResponse,
  type BeaconState,
  type FleetLog,
  type FleetState,
  type ParsedRoom,
  type RoomKind,
  type TaskEventLog,
  type TaskState,
} from "../../../contracts/rmf";
import type { Persistence } from "./persist";

/**
 * Main's live state: every sticky value and every unfinished (plus recent) task in memory,
 * answered from there; changes go to the subscribers at once and to the database behind.
 * The derived events live here too, because they need the previous value: task
 * completed/failed alerts, task durations, and "robot stuck" (working but not moving for
 * `stuckAfterMs`: an issue on the robot and one alert per episode).
 */
export type Publish = (room: ParsedRoom, payload: unknown) => void;
type AlertEntry = { request: AlertRequest; response: AlertResponse | null };

const ROOM_OF: Record<RoomKind, (name: string) => string> = {
  building_map: () => rooms.buildingMap,
  fire_alarm_trigger: () => rooms.fireAlarmTrigger,
  door_state: rooms.doorState,
  lift_state: rooms.liftState,
  dispenser_state: rooms.dispenserState,
  ingestor_state: rooms.ingestorState,
  fleet_state: rooms.fleetState,
  fleet_log: rooms.fleetLog,
  task_state: rooms.taskState,
  task_log: rooms.taskLog,
  alert_requests: () => rooms.alertRequests,
  alert_responses: () => rooms.alertResponses,
  beacons: () => rooms.beacons,
  rios: () => rooms.rios,
  delivery_alerts: () => rooms.deliveryAlerts,
};
export const roomOf = (kind: RoomKind, name?: string): ParsedRoom => ({ kind, room: ROOM_OF[kind](name ?? ""), name });

const TERMINAL = new Set<string>(TERMINAL_TASK_STATUSES);
const STUCK_MOVE_M = 0.05;

export const createRmfState = ({
  persist,
  publish,
  registry,
  log,
  stuckAfterMs = 45_000,
  maxTasksInMemory = 20_000,
  maxAlertsInMemory = 2_000,
  now = Date.now,
}: {
  persist: Persistence;
  publish: Publish;
  registry: Registry;
  log: pino.Logger;
  stuckAfterMs?: number;
  maxTasksInMemory?: number;
  maxAlertsInMemory?: number;
  now?: () => number;
}) => {
  const sticky = new Map<string, unknown>();
  const byKind = new Map<RoomKind, Map<string, unknown>>();
  const keep = (parsed: ParsedRoom, payload: unknown) => {
    sticky.set(parsed.room, payload);
    let m = byKind.get(parsed.kind);
    if (!m) byKind.set(parsed.kind, (m = new Map()));
    m.set(parsed.name ?? "", payload);
  };
  const tasks = new Map<string, TaskState>();
  const alerts = new Map<string, AlertEntry>();
  const beacons = new Map<string, BeaconState>();
  const stuck = new Map<string, { map: string; x: number; y: number; since: number; flagged: boolean }>();

  const durations = new Histogram({
    name: "rmf_task_duration_seconds",
    help: "Duration of finished tasks (start to finish), by category and final status",
    labelNames: ["category", "status"] as const,
    buckets: [10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const derived = new Counter({ name: "rmf_derived_events_total", help: "Events main derived (alerts, stuck robots)", labelNames: ["kind"] as const, registers: [registry] });

  const setSticky = (kind: RoomKind, name: string | undefined, payload: unknown) => {
    const parsed = roomOf(kind, name);
    keep(parsed, payload);
    persist.sticky(parsed.room, kind, payload);
    publish(parsed, payload);
  };

  const rememberAlert = (entry: AlertEntry) => {
    alerts.delete(entry.request.id);
    alerts.set(entry.request.id, entry);
    if (alerts.size <= maxAlertsInMemory) return;
    for (const [id, a] of alerts) {
      if (alerts.size <= maxAlertsInMemory) break;
      if (a.response) alerts.delete(id);
    }
  };

  const alertRequest = (request: AlertRequest) => {
    rememberAlert({ request, response: alerts.get(request.id)?.response ?? null });
    persist.alert({ request });
    publish(roomOf("alert_requests"), request);
  };

  const raise = (kind: string, fields: Pick<AlertRequest, "title" | "subtitle" | "message" | "tier" | "task_id"> & Partial<AlertRequest>) => {
    derived.inc({ kind });
    alertRequest({ id: randomUUID(), unix_millis_alert_time: now(), display: true, responses_available: ["Acknowledge"], alert_parameters: [], ...fields });
  };

  const rememberTask = (state: TaskState) => {
    tasks.delete(state.booking.id);
    tasks.set(state.booking.id, state);
    if (tasks.size <= maxTasksInMemory) return;
    for (const [id, t] of tasks) {
      if (tasks.size <= maxTasksInMemory) break;
      if (TERMINAL.has(t.status ?? "")) tasks.delete(id);
    }
  };

  const taskState = (state: TaskState, { request }: { request?: unknown } = {}) => {
    const id = state.booking.id;
    const previous = tasks.get(id);
    rememberTask(state);
    let durationMs: number | null = null;
    const status = state.status ?? "";
    const becameTerminal = TERMINAL.has(status) && previous?.status !== status;
    if (becameTerminal && state.unix_millis_start_time !== null && state.unix_millis_finish_time !== null) {
      durationMs = Math.max(0, state.unix_millis_finish_time - state.unix_millis_start_time);
      durations.observe({ category: state.category ?? "", status }, durationMs / 1000);
    }
    persist.task({ state, request, durationMs });
    publish(roomOf("task_state", id), state);
    if (!becameTerminal || (status !== "completed" && status !== "failed")) return;
    if (status === "completed") raise("task_completed", { title: "Task completed", subtitle: `ID: ${id}`, message: "", tier: "info", task_id: id });
    else {
      const errors = (state.dispatch?.errors ?? []).map((e) => [e.category, e.detail].filter(Boolean).join(": ")).filter(Boolean);
      raise("task_failed", { title: "Task failed", subtitle: `ID: ${id}`, message: errors.length ? `Errors: ${errors.join("; ")}` : "", tier: "error", task_id: id });
    }
  };

  /** Adds the derived "stuck" issue to robots working in place; raises one alert per episode. */
  const deriveStuck = (fleet: FleetState & { name: string }) => {
    for (const [robotName, robot] of Object.entries(fleet.robots ?? {})) {
      const key = `${fleet.name}/${robotName}`;
      const loc = robot.location;
      if (robot.status !== "working" || !loc) {
        stuck.delete(key);
        continue;
      }
      const t = robot.unix_millis_time ?? now();
      const s = stuck.get(key);
      if (!s || s.map !== loc.map || Math.hypot(s.x - loc.x, s.y - loc.y) > STUCK_MOVE_M) {
        stuck.set(key, { map: loc.map, x: loc.x, y: loc.y, since: t, flagged: false });
        continue;
      }
      const stillMs = t - s.since;
      if (stillMs < stuckAfterMs) continue;
      if (!(robot.issues ?? []).some((i) => i.category === "stuck")) robot.issues = [...(robot.issues ?? []), { category: "stuck", detail: { duration_s: Math.round(stillMs / 1000) } }];
      if (s.flagged) continue;
      s.flagged = true;
      log.info({ fleet: fleet.name, robot: robotName, stillMs }, "robot stuck");
      raise("robot_stuck", {
        title: "Robot stuck",
        subtitle: `${fleet.name}/${robotName}`,
        message: `No movement for ${Math.round(stillMs / 1000)} s while working`,
        tier: "warning",
        task_id: robot.task_id || null,
        alert_parameters: [
          { name: "fleet", value: fleet.name },
          { name: "robot", value: robotName },
        ],
      });
    }
  };

  return {
    /** Loads what the database kept (at start, before any socket is served). */
    restore: (data: Awaited<ReturnType<Persistence["restore"]>>) => {
      for (const s of data.sticky) {
        const parsed = parseRoom(s.room);
        if (parsed) keep(parsed, s.state);
      }
      for (const t of data.tasks) rememberTask(t);
      for (const a of data.alerts) rememberAlert(a);
    },

    fleetState: (fleet: FleetState & { name: string }) => {
      deriveStuck(fleet);
      setSticky("fleet_state", fleet.name, fleet);
    },
    fleetLog: (delta: FleetLog & { name: string }) => {
      persist.fleetLog(delta);
      publish(roomOf("fleet_log", delta.name), delta);
    },
    taskState,
    taskLog: (delta: TaskEventLog) => {
      persist.taskLog(delta);
      publish(roomOf("task_log", delta.task_id), delta);
    },
    setSticky,
    alertRequest,
    alertResponse: (response: AlertResponse) => {
      const entry = alerts.get(response.id);
      if (entry) rememberAlert({ ...entry, response });
      if (entry) persist.alert({ request: entry.request, response });
      publish(roomOf("alert_responses"), response);
    },
    /** Publishes on a non-sticky room (beacons also keep their latest value for GET /beacons). */
    event: (kind: "beacons" | "rios" | "delivery_alerts", payload: unknown) => {
      if (kind === "beacons") beacons.set((payload as BeaconState).id, payload as BeaconState);
      publish(roomOf(kind), payload);
    },

    current: (parsed: ParsedRoom): unknown => {
      if (!ROOM_SPECS[parsed.kind].sticky) return undefined;
      if (parsed.kind === "task_state") return tasks.get(parsed.name!);
      return sticky.get(parsed.room);
    },
    /** A task from memory, or (evicted long ago) from the database, put back into memory. */
    task: async (id: string) => {
      const t = tasks.get(id);
      if (t) return t;
      const row = await persist.loadTask(id);
      if (!row) return undefined;
      if (!tasks.has(id)) rememberTask(row.state);
      return row.state;
    },
    taskInMemory: (id: string) => tasks.get(id),
    stickyOf: (kind: RoomKind, name?: string) => sticky.get(roomOf(kind, name).room),
    stickyByKind: (kind: RoomKind) => [...(byKind.get(kind)?.values() ?? [])],
    alert: (id: string) => alerts.get(id),
    alertsInMemory: () => [...alerts.values()],
    beacons: () => [...beacons.values()],
  };
};
export type RmfState = ReturnType<typeof createRmfState>;
