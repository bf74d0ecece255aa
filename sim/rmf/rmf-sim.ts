import { randomBytes, randomUUID } from "node:crypto";
import type pino from "pino";
import {
  BRIDGE_PATH,
  bridgeFrameSchema,
  bridgeOutTopics,
  cancelTaskRequestSchema,
  deliveryDescriptionSchema,
  dispatchTaskRequestSchema,
  INTERNAL_PATH,
  interruptTaskRequestSchema,
  killTaskRequestSchema,
  patrolDescriptionSchema,
  resumeTaskRequestSchema,
  robotCommissionRequestSchema,
  robotTaskRequestSchema,
  skipPhaseRequestSchema,
  undoPhaseSkipRequestSchema,
  type AlertRequest,
  type BridgeOutTopic,
  type FleetLog,
  type LogEntry,
  type RmfError,
  type TaskRequest,
} from "../../contracts/rmf";
import { createRng, deriveSeed } from "../ocpp/rng";
import { buildBuilding, shortestPath, type Building } from "./building";
import { SimDoor, SimLift, SimWorkcell } from "./devices";
import { openLink } from "./link";
import { SimRobot } from "./robot";
import { SimTask, type PlannedPhase } from "./tasks";

/**
 * The fleet simulator: plays RMF core, the fleet adapters and the door/lift/workcell
 * adapters of one building. Robots move, wait at doors and the lift, run patrols and
 * deliveries through phases and report at `publishHz` over `/_internal` exactly as rmf's
 * fleet adapters do; building state and task commands travel over the RMF bridge.
 * Behaviour is deterministic for a seed (fixed simulated step per tick); `randomEvents`
 * (obstacles, alerts, the odd failure) and `autoTasks` can be switched off for tests.
 */
export type RmfSimOptions = {
  /** Main's base URL (http://host:port). */
  mainUrl: string;
  /** RMF_INTERNAL_TOKEN. */
  token: string;
  robots: number;
  /** Fleets the robots are spread over (default: one per 10 robots, at least 1, at most 8 named ones). */
  fleets?: number;
  seed?: number;
  randomEvents?: boolean;
  /** Idle robots get a patrol or delivery every `autoTaskEverySec` simulated seconds per fleet (0 = off). */
  autoTaskEverySec?: number;
  /** Simulated seconds per second. */
  speed?: number;
  publishHz?: number;
  /** false: no timer; the caller advances the simulation with `step()` (deterministic tests). */
  autoStart?: boolean;
  log: pino.Logger;
};

const FLEET_NAMES = ["tinyRobot", "deliveryRobot", "cleanerBot", "hospitalBot", "caddy", "porter", "scout", "runner"];
const FLEET_SPEED: Record<string, number> = { tinyRobot: 0.7, deliveryRobot: 0.5, cleanerBot: 0.4 };
const KEEP_FINISHED_TASKS = 500;
const MAX_QUEUED_LOGS = 5000;

const rmfError = (code: number, category: string, detail: string): RmfError => ({ code, category, detail });

export const startRmfSim = async (opts: RmfSimOptions) => {
  const log = opts.log;
  const seed = opts.seed ?? 1;
  const rng = createRng(deriveSeed(seed, 0));
  const speed = opts.speed ?? 1;
  const publishHz = opts.publishHz ?? 10;
  const tickMs = 1000 / publishHz;
  const dt = (tickMs / 1000) * speed;
  const randomEvents = opts.randomEvents ?? true;
  const autoEvery = opts.autoTaskEverySec ?? 0;

  const building: Building = buildBuilding({ chargers: opts.robots });
  const doors = new Map(building.doors.map((d) => [d.name, new SimDoor(d.name)]));
  const lift = new SimLift(building.lift.name, building.lift.levels);
  const workcells = new Map(building.workcells.map((w) => [w.guid, new SimWorkcell(w.guid, w.kind)]));
  const fleetCount = Math.max(1, Math.min(opts.fleets ?? Math.ceil(opts.robots / 10), opts.robots));
  const fleetNames = Array.from({ length: fleetCount }, (_, i) => FLEET_NAMES[i] ?? `fleet_${i}`);
  const robots: SimRobot[] = [];
  for (let i = 0; i < opts.robots; i++) {
    const fleet = fleetNames[i % fleetCount];
    const n = Math.floor(i / fleetCount) + 1;
    robots.push(new SimRobot(fleet, `${fleet}${n}`, building.chargers[i], FLEET_SPEED[fleet] ?? 0.6, rng.between(0.55, 1), { building, doors, lift }));
  }
  const robotByKey = new Map(robots.map((r) => [r.id, r]));
  const tasks = new Map<string, SimTask>();
  const queues = new Map<SimRobot, SimTask[]>(robots.map((r) => [r, []]));
  const current = new Map<SimRobot, { task: SimTask; started: boolean; waiting: string | null }>();
  const fleetLogs = new Map<string, FleetLog & { name: string }>();
  const fleetSeq = new Map<string, number>();
  const queuedLogs: unknown[] = [];
  const places = [...building.places.keys()];
  const now = () => Date.now();

  const fleetLog = (robot: SimRobot | null, fleet: string, text: string, tier: LogEntry["tier"] = "info") => {
    const seq = fleetSeq.get(fleet) ?? 0;
    fleetSeq.set(fleet, seq + 1);
    const entry: LogEntry = { seq, tier, unix_millis_time: now(), text };
    const d = fleetLogs.get(fleet) ?? { name: fleet, log: [], robots: {} };
    fleetLogs.set(fleet, d);
    if (robot) (d.robots![robot.name] ??= []).push(entry);
    else d.log!.push(entry);
  };

  // ---------- links to main ----------
  const wsBase = opts.mainUrl.replace(/^http/, "ws");
  const internal = openLink({
    url: `${wsBase}${INTERNAL_PATH}`,
    token: opts.token,
    name: "rmf sim /_internal",
    log,
    // Main may have restarted: send everything it should know again.
    onOpen: () => {
      for (const t of tasks.values()) internal.send({ type: "task_state_update", data: t.state });
      while (queuedLogs.length) internal.send(queuedLogs.shift());
      publishFleets();
    },
    onMessage: (text) => log.debug({ text: text.slice(0, 200) }, "notice from main"),
  });
  const sendInternal = (frame: unknown) => {
    if (internal.send(frame)) return;
    if (queuedLogs.length < MAX_QUEUED_LOGS) queuedLogs.push(frame);
  };
  const bridge = openLink({
    url: `${wsBase}${BRIDGE_PATH}`,
    token: opts.token,
    name: "rmf sim bridge",
    log,
    onOpen: () => {
      publishBridge("fleets", { fleets: fleetNames });
      publishBridge("map", building.map);
      for (const d of doors.values()) publishBridge("door_states", d.state(now()));
      publishBridge("lift_states", lift.state(now()));
      for (const w of workcells.values()) publishBridge(w.kind === "dispenser" ? "dispenser_states" : "ingestor_states", w.state(now()));
    },
    onMessage: (text) => onBridgeFrame(text),
  });
  const publishBridge = (topic: string, msg: unknown) => bridge.send({ op: "publish", topic, msg });

  const publishFleets = () => {
    const t = now();
    for (const fleet of fleetNames) {
      const own = robots.filter((r) => r.fleet === fleet);
      internal.send({ type: "fleet_state_update", data: { name: fleet, robots: Object.fromEntries(own.map((r) => [r.name, r.state(t)])) } });
    }
  };

  // ---------- planning and dispatch ----------
  const placeVertex = (place: string) => building.places.get(place);
  const travelMs = (robot: SimRobot, from: number, to: number) => {
    const path = shortestPath(building, from, to) ?? [];
    let m = 0;
    for (let i = 1; i < path.length; i++) {
      const a = building.vertices[path[i - 1]];
      const b = building.vertices[path[i]];
      m += a.level === b.level ? Math.hypot(a.x - b.x, a.y - b.y) : 20;
    }
    return Math.round((m / robot.speed) * 1000);
  };

  type Plan = { ok: true; phases: (robot: SimRobot) => PlannedPhase[]; category: string } | { ok: false; error: RmfError };
  const plan = (request: TaskRequest): Plan => {
    if (request.category === "patrol") {
      const d = patrolDescriptionSchema.safeParse(request.description);
      if (!d.success) return { ok: false, error: rmfError(5, "Invalid description", d.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")) };
      const unknown = d.data.places.find((p) => placeVertex(p) === undefined);
      if (unknown) return { ok: false, error: rmfError(3, "Rejected", `Unknown place: ${unknown}`) };
      return {
        ok: true,
        category: "patrol",
        phases: (robot) => {
          let from = robot.vertex;
          const out: PlannedPhase[] = [];
          for (let r = 0; r < d.data.rounds; r++)
            for (const place of d.data.places) {
              const to = placeVertex(place)!;
              out.push({ category: `Go to [place:${place}]`, steps: [{ kind: "move", place, label: `Move to [place:${place}]` }], estimateMs: travelMs(robot, from, to) });
              from = to;
            }
          return out;
        },
      };
    }
    if (request.category === "delivery") {
      const d = deliveryDescriptionSchema.safeParse(request.description);
      if (!d.success) return { ok: false, error: rmfError(5, "Invalid description", d.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")) };
      const { pickup, dropoff } = d.data;
      for (const [leg, kind] of [[pickup, "dispenser"], [dropoff, "ingestor"]] as const) {
        if (placeVertex(leg.place) === undefined) return { ok: false, error: rmfError(3, "Rejected", `Unknown place: ${leg.place}`) };
        const cell = building.workcells.find((w) => w.guid === leg.handler);
        if (!cell || cell.kind !== kind || cell.place !== leg.place) return { ok: false, error: rmfError(3, "Rejected", `No ${kind} '${leg.handler}' at ${leg.place}`) };
      }
      const items = (p: typeof pickup.payload) => p.map((i) => `${i.quantity}x ${i.sku}`).join(", ") || "the payload";
      return {
        ok: true,
        category: "delivery",
        phases: (robot) => [
          {
            category: `Pick up from [place:${pickup.place}]`,
            steps: [
              { kind: "move", place: pickup.place, label: `Move to [place:${pickup.place}]` },
              { kind: "workcell", guid: pickup.handler, seconds: 4, label: `Dispense ${items(pickup.payload)} from ${pickup.handler}` },
            ],
            estimateMs: travelMs(robot, robot.vertex, placeVertex(pickup.place)!) + 4000,
          },
          {
            category: `Drop off at [place:${dropoff.place}]`,
            steps: [
              { kind: "move", place: dropoff.place, label: `Move to [place:${dropoff.place}]` },
              { kind: "workcell", guid: dropoff.handler, seconds: 4, label: `Ingest ${items(dropoff.payload)} at ${dropoff.handler}` },
            ],
            estimateMs: travelMs(robot, placeVertex(pickup.place)!, placeVertex(dropoff.place)!) + 4000,
          },
        ],
      };
    }
    return { ok: false, error: rmfError(3, "Rejected", "No fleet could handle the task") };
  };

  const score = (r: SimRobot) => (queues.get(r)!.length + (current.has(r) ? 1 : 0)) * 1e6 + (r.battery < 0.3 ? 5e5 : 0) + (1 - r.battery) * 1000;

  const submit = (request: TaskRequest, { robot: wanted, fleet }: { robot?: SimRobot; fleet?: string } = {}) => {
    const p = plan(request);
    if (!p.ok) return { success: false as const, errors: [p.error] };
    let robot = wanted;
    if (!robot) {
      const candidates = robots.filter((r) => r.commission.dispatch_tasks && (!fleet || r.fleet === fleet));
      if (!candidates.length) return { success: false as const, errors: [rmfError(3, "Rejected", "No fleet could handle the task")] };
      robot = candidates.reduce((best, r) => (score(r) < score(best) ? r : best));
    } else if (!robot.commission.direct_tasks) return { success: false as const, errors: [rmfError(3, "Rejected", `${robot.name} does not accept direct tasks`)] };
    const id = `${p.category}-${randomBytes(4).toString("hex")}`;
    const task = new SimTask({ id, category: p.category, description: request.description, request, fleet: robot.fleet, robot: robot.name, phases: p.phases(robot), now: now() });
    task.log(`Task assigned to ${robot.fleet}/${robot.name}`, now());
    tasks.set(id, task);
    queues.get(robot)!.push(task);
    pruneTasks();
    return { success: true as const, state: structuredClone(task.state) };
  };

  const pruneTasks = () => {
    const finished = [...tasks.values()].filter((t) => t.finished);
    for (const t of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED_TASKS))) tasks.delete(t.id);
  };

  const robotOf = (task: SimTask) => robotByKey.get(`${task.state.assigned_to!.group}/${task.state.assigned_to!.name}`)!;

  const endTask = (task: SimTask, status: "completed" | "failed" | "canceled" | "killed", labels: string[] = []) => {
    const robot = robotOf(task);
    const c = current.get(robot);
    if (c?.task === task) {
      robot.stop();
      robot.paused = false;
      current.delete(robot);
    } else {
      const q = queues.get(robot)!;
      const i = q.indexOf(task);
      if (i >= 0) q.splice(i, 1);
    }
    if (!task.finished) task.finish(status, now(), labels);
    fleetLog(robot, robot.fleet, `${task.id} ${status}`, status === "failed" ? "error" : "info");
  };

  const unknownTask = (id: string) => ({ success: false, errors: [rmfError(4, "Unknown task", id)] });

  /** RMF's task API: the json_msg of a `task_api` call → its answer. */
  const taskApi = (msg: Record<string, unknown>): Record<string, unknown> => {
    switch (msg.type) {
      case "dispatch_task_request": {
        const r = dispatchTaskRequestSchema.safeParse(msg);
        if (!r.success) return { success: false, errors: [rmfError(5, "Invalid request", r.error.message)] };
        if (r.data.request.fleet_name && !fleetNames.includes(r.data.request.fleet_name)) return { success: false, errors: [rmfError(3, "Rejected", "No fleet could handle the task")] };
        return submit(r.data.request, { fleet: r.data.request.fleet_name });
      }
      case "robot_task_request": {
        const r = robotTaskRequestSchema.safeParse(msg);
        if (!r.success) return { success: false, errors: [rmfError(5, "Invalid request", r.error.message)] };
        const robot = robotByKey.get(`${r.data.fleet}/${r.data.robot}`);
        if (!robot) return { success: false, errors: [rmfError(3, "Rejected", `Unknown robot ${r.data.fleet}/${r.data.robot}`)] };
        return submit(r.data.request, { robot });
      }
      case "cancel_task_request":
      case "kill_task_request": {
        const r = (msg.type === "cancel_task_request" ? cancelTaskRequestSchema : killTaskRequestSchema).safeParse(msg);
        if (!r.success) return { success: false, errors: [rmfError(5, "Invalid request", r.error.message)] };
        const task = tasks.get(r.data.task_id);
        if (!task) return unknownTask(r.data.task_id);
        if (task.finished) return { success: false, errors: [rmfError(6, "Task finished", `${task.id} is already ${task.state.status}`)] };
        endTask(task, msg.type === "cancel_task_request" ? "canceled" : "killed", r.data.labels);
        return { success: true };
      }
      case "interrupt_task_request": {
        const r = interruptTaskRequestSchema.safeParse(msg);
        const task = r.success ? tasks.get(r.data.task_id) : undefined;
        if (!r.success || !task || task.finished) return unknownTask(r.success ? r.data.task_id : "");
        const token = randomUUID();
        task.state.interruptions = { ...(task.state.interruptions ?? {}), [token]: { unix_millis_request_time: now(), labels: r.data.labels ?? [], resumed_by: null } };
        const c = current.get(robotOf(task));
        if (c?.task === task) robotOf(task).paused = true;
        task.setStatus("standby");
        task.log("Task interrupted", now(), { tier: "warning" });
        return { success: true, token };
      }
      case "resume_task_request": {
        const r = resumeTaskRequestSchema.safeParse(msg);
        const task = r.success && r.data.for_task ? tasks.get(r.data.for_task) : undefined;
        if (!task || task.finished) return unknownTask(r.success ? (r.data.for_task ?? "") : "");
        for (const i of Object.values(task.state.interruptions ?? {})) i.resumed_by ??= { unix_millis_request_time: now(), labels: [] };
        robotOf(task).paused = false;
        task.setStatus(current.get(robotOf(task))?.task === task ? "underway" : "queued");
        task.log("Task resumed", now());
        return { success: true };
      }
      case "skip_phase_request": {
        const r = skipPhaseRequestSchema.safeParse(msg);
        const task = r.success ? tasks.get(r.data.task_id) : undefined;
        if (!r.success || !task || task.finished) return unknownTask(r.success ? r.data.task_id : "");
        if (!task.skipPhase(r.data.phase_id, now(), r.data.labels)) return { success: false, errors: [rmfError(7, "Unknown phase", String(r.data.phase_id))] };
        // Skipping the running phase: stop moving and go on with the next one.
        if (task.phase + 1 === r.data.phase_id) {
          const robot = robotOf(task);
          robot.stop();
          const c = current.get(robot);
          if (c) c.started = false;
          if (!task.enterPhase(task.phase + 1, now())) endTask(task, "completed");
        }
        return { success: true, token: randomUUID() };
      }
      case "undo_phase_skip_request": {
        const r = undoPhaseSkipRequestSchema.safeParse(msg);
        const task = r.success ? tasks.get(r.data.for_task) : undefined;
        if (!task) return unknownTask(r.success ? r.data.for_task : "");
        task.skip.clear();
        return { success: true };
      }
      case "rewind_task_request":
        return { success: true };
      case "task_discovery_request":
        return { success: true, type: "task_discovery_update", data: { fleet_name: fleetNames[0], tasks: [{ category: "patrol" }, { category: "delivery" }] } };
      case "robot_commission_request": {
        const r = robotCommissionRequestSchema.safeParse(msg);
        if (!r.success) return { success: false, errors: [rmfError(5, "Invalid request", r.error.message)] };
        const robot = robotByKey.get(`${r.data.robot.fleet}/${r.data.robot.robot}`);
        if (!robot) return { success: false, errors: [rmfError(3, "Rejected", "Unknown robot")] };
        robot.commission = { ...r.data.commission };
        fleetLog(robot, robot.fleet, r.data.commission.dispatch_tasks ? "recommissioned" : "decommissioned", "warning");
        if (!r.data.commission.dispatch_tasks && r.data.pending_dispatch_tasks_policy === "reassign") {
          const pending = queues.get(robot)!.splice(0);
          for (const t of pending) {
            endTask(t, "canceled", ["reassigned"]);
            submit({ category: t.state.category!, description: t.state.detail as object, requester: t.state.booking.requester ?? undefined, labels: [...(t.state.booking.labels ?? []), `reassigned_from=${t.id}`] });
          }
        }
        return { success: true, commission: { success: true, errors: [] } };
      }
      default:
        return { success: false, errors: [rmfError(1, "Unsupported request", String(msg.type).slice(0, 64))] };
    }
  };

  const onBridgeFrame = (text: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    const frame = bridgeFrameSchema.safeParse(raw);
    if (!frame.success) return log.warn("invalid bridge frame from main");
    const f = frame.data;
    if (f.op === "call_service") {
      let answer: Record<string, unknown>;
      try {
        answer = taskApi(f.args.json_msg);
      } catch (error) {
        answer = { success: false, errors: [rmfError(0, "Error", (error as Error).message)] };
      }
      bridge.send({ op: "service_response", id: f.id, service: f.service, result: true, values: { json_msg: answer } });
      return;
    }
    if (f.op !== "publish" || !Object.hasOwn(bridgeOutTopics, f.topic)) return;
    const topic = f.topic as BridgeOutTopic;
    const m = bridgeOutTopics[topic].safeParse(f.msg);
    if (!m.success) return log.warn({ topic }, "invalid bridge message from main");
    if (topic === "adapter_door_requests") {
      const r = m.data as { door_name: string; requested_mode: { value: number } };
      doors.get(r.door_name)?.request(r.requested_mode.value);
    } else if (topic === "adapter_lift_requests") {
      const r = m.data as { lift_name: string; session_id: string; request_type: number; destination_floor: string; door_state: number };
      if (r.lift_name === lift.name) lift.request(r.session_id, r.request_type, r.destination_floor, r.door_state);
    } else if (topic === "alert_responses") {
      const r = m.data as { id: string; response: string };
      const robot = obstacleAlerts.get(r.id);
      // "Continue": the operator cleared the obstacle.
      if (robot && r.response === "Continue") robot.blockedFor = 0;
      obstacleAlerts.delete(r.id);
    }
  };

  // ---------- the tick ----------
  const obstacleAlerts = new Map<string, SimRobot>();
  const robotRngs = new Map(robots.map((r, i) => [r, createRng(deriveSeed(seed, i + 1))]));
  let sinceAuto = new Map(fleetNames.map((f, i) => [f, (autoEvery * i) / fleetCount]));
  let tickCount = 0;

  const stepRobot = (robot: SimRobot) => {
    const t = now();
    const c = current.get(robot);
    const r = robotRngs.get(robot)!;
    if (!c) {
      robot.tick(dt);
      if (robot.moving) return;
      const next = queues.get(robot)![0];
      if (next && robot.battery >= 0.25 && robot.commission.dispatch_tasks !== undefined) {
        queues.get(robot)!.shift();
        current.set(robot, { task: next, started: false, waiting: null });
        robot.taskId = next.id;
        robot.status = "working";
        next.start(t);
        fleetLog(robot, robot.fleet, `starting ${next.id}`);
        return;
      }
      robot.taskId = "";
      if (!robot.onCharger && robot.commission.idle_behavior) {
        robot.go(shortestPath(building, robot.vertex, robot.charger) ?? []);
        robot.status = "idle";
        return;
      }
      robot.status = robot.onCharger && robot.battery < 0.999 ? "charging" : "idle";
      return;
    }
    const { task } = c;
    const step = task.currentStep;
    if (!step) return endTask(task, "completed");
    const phaseId = task.phase + 1;
    const eventId = task.step + 1;
    if (!c.started) {
      c.started = true;
      if (step.kind === "move") {
        robot.go(shortestPath(building, robot.vertex, placeVertex(step.place)!) ?? []);
        task.log(`Moving towards [place:${step.place}]`, t, { phase: phaseId, event: eventId });
      } else {
        workcells.get(step.guid)!.request(task.id, step.seconds);
        task.log(`${step.label}: requested`, t, { phase: phaseId, event: eventId });
      }
    }
    if (randomEvents && robot.moving && robot.blockedFor === 0 && r.happens(dt, 900)) {
      robot.blockedFor = r.between(5, 15);
      robot.issues = [{ category: "obstacle", detail: "Obstacle detected on the path" }];
      fleetLog(robot, robot.fleet, "obstacle detected", "warning");
      task.log("Obstacle detected; waiting for the path to clear", t, { tier: "warning", phase: phaseId, event: eventId });
      if (r.next() < 0.3) {
        const alert: AlertRequest = { id: randomUUID(), unix_millis_alert_time: t, title: "Obstacle detected", subtitle: robot.id, message: `${robot.name} is waiting for an obstacle to clear`, display: true, tier: "warning", responses_available: ["Continue"], alert_parameters: [{ name: "robot", value: robot.name }], task_id: task.id };
        obstacleAlerts.set(alert.id, robot);
        publishBridge("alerts", alert);
      }
    }
    if (randomEvents && r.happens(dt, 4 * 3600)) {
      task.log("Navigation failed: the robot could not find a way around a blockage", t, { tier: "error", phase: phaseId, event: eventId });
      return endTask(task, "failed");
    }
    const arrived = robot.tick(dt);
    if (robot.blockedFor === 0 && robot.issues?.length) robot.issues = [];
    const waiting = robot.waiting ? `${robot.waiting.kind}:${robot.waiting.name}:${robot.waiting.kind === "lift" ? robot.waiting.phase : ""}` : null;
    if (waiting !== c.waiting) {
      c.waiting = waiting;
      if (robot.waiting?.kind === "door") task.log(`Waiting for door ${robot.waiting.name} to open`, t, { phase: phaseId, event: eventId });
      if (robot.waiting?.kind === "lift") task.log(robot.waiting.phase === "call" ? `Requesting lift ${robot.waiting.name}` : `Riding lift ${robot.waiting.name}`, t, { phase: phaseId, event: eventId });
    }
    const done = step.kind === "move" ? arrived || (!robot.moving && robot.vertex === placeVertex(step.place)) : workcells.get(step.guid)!.take(task.id);
    if (!done) return;
    c.started = false;
    task.log(step.kind === "move" ? `Arrived at [place:${step.place}]` : `${step.label}: done`, t, { phase: phaseId, event: eventId });
    if (!task.advance(t)) {
      current.delete(robot);
      fleetLog(robot, robot.fleet, `finished ${task.id}`);
    }
  };

  const autoTasks = () => {
    if (!autoEvery) return;
    const next = new Map<string, number>();
    for (const fleet of fleetNames) {
      const elapsed = (sinceAuto.get(fleet) ?? 0) + dt;
      if (elapsed < autoEvery) {
        next.set(fleet, elapsed);
        continue;
      }
      next.set(fleet, 0);
      const idle = robots.find((r) => r.fleet === fleet && !current.has(r) && !queues.get(r)!.length && r.battery > 0.4 && r.commission.dispatch_tasks);
      if (!idle) continue;
      const request: TaskRequest =
        rng.next() < 0.5
          ? { category: "patrol", description: { places: [rng.pick(places), rng.pick(places)], rounds: 1 }, requester: "sim:auto", labels: ["auto"] }
          : { category: "delivery", description: { pickup: { place: "supplies", handler: "coke_dispenser", payload: [{ sku: "coke", quantity: 1 }] }, dropoff: { place: "storage", handler: "coke_ingestor", payload: [{ sku: "coke", quantity: 1 }] } }, requester: "sim:auto", labels: ["auto"] };
      submit(request, { robot: idle });
    }
    sinceAuto = next;
  };

  const tick = () => {
    tickCount += 1;
    const t = now();
    for (const d of doors.values()) d.tick(dt);
    lift.tick(dt);
    for (const w of workcells.values()) w.tick(dt);
    autoTasks();
    for (const robot of robots) stepRobot(robot);
    publishFleets();
    for (const task of tasks.values()) {
      const delta = task.takeLog();
      if (delta) sendInternal({ type: "task_log_update", data: delta });
      if (!task.dirty) continue;
      task.dirty = false;
      internal.send({ type: "task_state_update", data: task.state });
    }
    for (const delta of fleetLogs.values()) sendInternal({ type: "fleet_log_update", data: delta });
    fleetLogs.clear();
    for (const d of doors.values()) if (d.changed && publishBridge("door_states", d.state(t))) d.changed = false;
    if (lift.changed && publishBridge("lift_states", lift.state(t))) lift.changed = false;
    for (const w of workcells.values()) if (w.changed && publishBridge(w.kind === "dispenser" ? "dispenser_states" : "ingestor_states", w.state(t))) w.changed = false;
  };
  const timer = opts.autoStart === false ? undefined : setInterval(tick, tickMs);

  return {
    building,
    fleets: fleetNames,
    robots,
    tasks,
    /** Dispatches as RMF would on a task API call (tests, demos). */
    taskApi,
    connected: () => internal.connected() && bridge.connected(),
    ticks: () => tickCount,
    /** Advances `n` ticks at once (with `autoStart: false`). */
    step: (n = 1) => {
      for (let i = 0; i < n; i++) tick();
    },
    close: async () => {
      clearInterval(timer);
      await Promise.all([internal.close(), bridge.close()]);
    },
  };
};
export type RmfSim = Awaited<ReturnType<typeof startRmfSim>>;
