import "server-only";
import { io, type Socket } from "socket.io-client";
import {
  parseRoom,
  ROOM_SPECS,
  rooms,
  SOCKET_PATH,
  subscribeAckSchema,
  TERMINAL_TASK_STATUSES,
  type AlertRequest,
  type AlertResponse,
  type BuildingMap,
  type DoorState,
  type FleetState,
  type LiftState,
  type RoomKind,
  type TaskState,
} from "../../../contracts/rmf";
import { logger } from "../../../lib/log";
import type { UpstreamHealth } from "../health";
import { checkContract } from "../kit/contract";
import { trackLinkState, type LiveView, type LiveViewStatus, type LiveViewTiming } from "../kit/live-view";
import { UpstreamContractError } from "../kit/upstream-errors";
import type { RmfClient } from "./client";
import { robotKey, robotsStore, type RobotsStore } from "./store";

export type RmfLiveViewOptions = LiveViewTiming & {
  client: RmfClient;
  health: UpstreamHealth;
  store?: RobotsStore;
  /** How often the task list is read again: new tasks appear on no room (README "What the console connector needs"). */
  taskRelistMs?: number;
  /** How many of the newest tasks the view keeps (every unfinished one is kept besides). */
  recentTasks?: number;
};

export type RmfLiveView = LiveView & {
  /** Follows one task from now on (a task the console just dispatched, or one a robot reports). */
  trackTask: (taskId: string) => Promise<void>;
};

const isTerminal = (t: TaskState) => t.status !== null && TERMINAL_TASK_STATUSES.includes(t.status);
const ACK_TIMEOUT_MS = 5000;

/**
 * RMF's socket.io on the same shape as the kit's live view: connect (JWT in the handshake),
 * list everything over REST, subscribe per item (`/fleets/{n}/state`, `/doors/{n}/state`, …,
 * `/tasks/{id}/state` for unfinished tasks, the alert streams), keep every sticky snapshot and
 * update in the store. On every (re)connect the per-room state is reset and everything is
 * listed and subscribed again (rmf-web's own client never re-subscribes). Every event is
 * checked against its room's contract (`ROOM_SPECS[kind].payload`); one that breaks it is
 * counted, logged and skipped. Acks are used when the server sends them (Switchyard's main and
 * proxies do); rmf-web never acks, so a missing ack counts as subscribed.
 */
export const startRmfLiveView = ({
  client,
  health,
  store = robotsStore(),
  downAfterMs = 10_000,
  minBackoffMs = 1000,
  maxBackoffMs = 10_000,
  taskRelistMs = 10_000,
  recentTasks = 500,
}: RmfLiveViewOptions): RmfLiveView => {
  const id = "robots";
  const log = logger().child({ connector: id, upstream: "rmf" });
  const link = health.register(id, "RMF api-server", client.url);
  const status: LiveViewStatus = { synced: false, connected: false, epoch: null, seq: 0, snapshots: 0, rejectedEvents: 0, lastError: null };
  let closed = false;
  let relistTimer: NodeJS.Timeout | null = null;
  let generation = 0;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  /** Rooms subscribed on the current connection (reset on every disconnect). */
  const subscribed = new Set<string>();
  const tracking = new Set<string>();

  const { markBroken, markConnected, stop: stopLink } = trackLinkState({ link, status, downAfterMs, isClosed: () => closed });

  const socket: Socket = io(client.url, {
    path: SOCKET_PATH,
    transports: ["websocket"],
    // A function, so every reconnect presents a fresh token.
    auth: (cb) => {
      client.readToken().then(
        (token) => cb({ token }),
        (error: unknown) => {
          log.error({ err: error }, "could not sign the RMF token");
          cb({});
        },
      );
    },
    reconnectionDelay: minBackoffMs,
    reconnectionDelayMax: maxBackoffMs,
    randomizationFactor: 0.2,
    timeout: 10_000,
  });

  const subscribe = async (room: string) => {
    if (subscribed.has(room) || !socket.connected) return;
    subscribed.add(room);
    try {
      const ack = subscribeAckSchema.safeParse(await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("subscribe", { room }));
      if (ack.success && !ack.data.success) {
        subscribed.delete(room);
        // A door or lift without a state yet, or a task that vanished: not an error of the link.
        log.debug({ room, error: ack.data.error }, "subscribe refused");
      }
    } catch {
      // No ack in time: rmf-web never acks; the subscription stands.
    }
  };
  const unsubscribe = (room: string) => {
    if (!subscribed.delete(room) || !socket.connected) return;
    socket.emit("unsubscribe", { room });
  };

  // ---------- applying what arrives ----------

  const applyFleet = (fallbackName: string, fleet: FleetState) => {
    const name = fleet.name ?? fallbackName;
    const robots = Object.entries(fleet.robots ?? {});
    store.fleets.upsert({ name, robots: robots.map(([robot]) => robot).sort() });
    const seen = new Set<string>();
    for (const [robotName, robot] of robots) {
      const key = robotKey(name, robotName);
      seen.add(key);
      store.robots.upsert({ ...robot, key, fleet: name, name: robot.name ?? robotName });
      if (robot.task_id && !store.tasks.has(robot.task_id)) void trackTask(robot.task_id);
    }
    for (const r of [...store.robots.values()]) if (r.fleet === name && !seen.has(r.key)) store.robots.remove(r.key);
  };
  const applyTask = (task: TaskState) => {
    store.tasks.upsert(task);
    if (isTerminal(task)) {
      tracking.delete(task.booking.id);
      unsubscribe(rooms.taskState(task.booking.id));
    }
  };
  const levelOfDoor = (name: string) => {
    for (const map of store.map.values()) for (const level of map.levels) if (level.doors.some((d) => d.name === name)) return level.name;
    return null;
  };
  const applyDoor = (state: DoorState) => {
    const prev = store.doors.get(state.door_name);
    store.doors.upsert({ name: state.door_name, level: prev?.level ?? levelOfDoor(state.door_name), definition: prev?.definition ?? null, state });
  };
  const applyLift = (state: LiftState) => {
    const prev = store.lifts.get(state.lift_name);
    store.lifts.upsert({ name: state.lift_name, definition: prev?.definition ?? null, state });
  };
  const applyAlert = (alert: AlertRequest) => {
    store.alerts.upsert({ ...alert, response: store.alerts.get(alert.id)?.response ?? null });
  };
  const applyAlertResponse = (response: AlertResponse) => {
    const alert = store.alerts.get(response.id);
    if (alert) store.alerts.upsert({ ...alert, response });
  };
  const applyMap = (map: BuildingMap) => {
    store.map.applySnapshot([map]);
    for (const door of store.doors.values()) if (!door.level) store.doors.upsert({ ...door, level: levelOfDoor(door.name) });
  };

  const handlers: Partial<Record<RoomKind, (data: never, name: string) => void>> = {
    building_map: applyMap as (data: never) => void,
    fleet_state: ((data: FleetState, name: string) => applyFleet(name, data)) as (data: never, name: string) => void,
    task_state: applyTask as (data: never) => void,
    door_state: applyDoor as (data: never) => void,
    lift_state: applyLift as (data: never) => void,
    alert_requests: applyAlert as (data: never) => void,
    alert_responses: applyAlertResponse as (data: never) => void,
  };

  socket.onAny((event: string, data: unknown) => {
    const room = parseRoom(event);
    // rmf-web broadcasts `subscribe` / `unsubscribe` notices; they are no room.
    if (!room) return;
    const apply = handlers[room.kind];
    if (!apply) return;
    link.messageReceived();
    try {
      const payload = checkContract(ROOM_SPECS[room.kind].payload, data, { upstream: "rmf", label: "RMF api-server", url: client.url, what: `room ${room.kind}` });
      apply(payload as never, room.name ?? "");
    } catch (error) {
      if (!(error instanceof UpstreamContractError)) throw error;
      status.rejectedEvents++;
    }
  });

  // ---------- listing, then subscribing ----------

  const trackTask = async (taskId: string) => {
    if (tracking.has(taskId)) return;
    tracking.add(taskId);
    try {
      const task = await client.task(taskId);
      applyTask(task);
      if (!isTerminal(task)) await subscribe(rooms.taskState(taskId));
    } catch (error) {
      tracking.delete(taskId);
      log.debug({ taskId, err: (error as Error).message }, "task not followed");
    }
  };

  const listTasks = async (signal?: AbortSignal) => {
    const [recent, open] = await Promise.all([
      client.tasks({ limit: Math.min(1000, recentTasks), order_by: "-unix_millis_request_time" }, signal),
      client.tasks({ status: "uninitialized,blocked,error,queued,standby,underway,delayed", limit: 1000 }, signal),
    ]);
    return [...new Map([...recent, ...open].map((t) => [t.booking.id, t])).values()];
  };
  const followTasks = async (tasks: TaskState[]) => {
    for (const task of tasks) {
      if (isTerminal(task)) continue;
      tracking.add(task.booking.id);
      await subscribe(rooms.taskState(task.booking.id));
    }
  };

  const sync = async () => {
    const mine = ++generation;
    const stale = () => closed || mine !== generation || !socket.connected;
    try {
      const [map, fleets, doors, lifts, tasks, alerts] = await Promise.all([
        client.buildingMap().catch((error: unknown) => ((error as { status?: number }).status === 404 ? null : Promise.reject(error))),
        client.fleets(),
        client.doors(),
        client.lifts(),
        listTasks(),
        client.unrespondedAlerts(),
      ]);
      if (stale()) return;
      if (map) applyMap(map);
      const fleetNames = fleets.map((f) => f.name).filter((n): n is string => Boolean(n));
      store.fleets.applySnapshot(fleets.filter((f) => f.name).map((f) => ({ name: f.name!, robots: Object.keys(f.robots ?? {}).sort() })));
      for (const r of [...store.robots.values()]) if (!fleetNames.includes(r.fleet)) store.robots.remove(r.key);
      for (const f of fleets) if (f.name) applyFleet(f.name, f);
      store.doors.applySnapshot(doors.map((d) => ({ name: d.name, level: levelOfDoor(d.name), definition: d, state: store.doors.get(d.name)?.state ?? null })));
      store.lifts.applySnapshot(lifts.map((l) => ({ name: l.name, definition: l, state: store.lifts.get(l.name)?.state ?? null })));
      store.tasks.applySnapshot(tasks);
      tracking.clear();
      // Answered alerts stay until the console restarts; unanswered ones come from the upstream.
      for (const a of alerts) applyAlert(a);
      await Promise.all([
        subscribe(rooms.buildingMap),
        subscribe(rooms.alertRequests),
        subscribe(rooms.alertResponses),
        ...fleetNames.map((n) => subscribe(rooms.fleetState(n))),
        ...doors.map((d) => subscribe(rooms.doorState(d.name))),
        ...lifts.map((l) => subscribe(rooms.liftState(l.name))),
        followTasks(tasks),
      ]);
      if (stale()) return;
      status.synced = true;
      status.snapshots++;
      markConnected();
      log.info({ fleets: fleetNames.length, doors: doors.length, lifts: lifts.length, tasks: tasks.length, snapshots: status.snapshots }, "rmf synced");
      resolveReady();
    } catch (error) {
      if (stale()) return;
      const reason = (error as Error).message;
      markBroken(reason);
      log.warn({ err: reason }, "rmf sync failed; retrying");
      setTimeout(() => {
        if (!stale()) void sync();
      }, minBackoffMs);
    }
  };

  const relist = async () => {
    if (!status.connected) return;
    try {
      const open = await client.tasks({ status: "uninitialized,blocked,error,queued,standby,underway,delayed", limit: 1000 });
      // A task the view already follows is newer in the store than in this listing.
      for (const task of open) if (!store.tasks.has(task.booking.id)) applyTask(task);
      await followTasks(open);
    } catch (error) {
      log.debug({ err: (error as Error).message }, "task relist failed");
    }
  };
  relistTimer = setInterval(() => void relist(), taskRelistMs);
  relistTimer.unref();

  socket.on("connect", () => {
    subscribed.clear();
    void sync();
  });
  socket.on("disconnect", (reason) => {
    subscribed.clear();
    generation++;
    markBroken(`disconnected (${reason})`);
    // socket.io does not reconnect by itself after the server closed the socket.
    if (reason === "io server disconnect" && !closed) setTimeout(() => !closed && socket.connect(), minBackoffMs);
  });
  socket.on("connect_error", (error) => markBroken(error.message));

  return {
    link: () => health.get(id),
    status: () => ({ ...status }),
    ready,
    trackTask,
    close: async () => {
      closed = true;
      stopLink();
      if (relistTimer) clearInterval(relistTimer);
      socket.close();
      link.unregister();
    },
  };
};
