import type { LogEntry, Phase, TaskEventLog, TaskState, TaskStatus } from "../../contracts/rmf";

/**
 * A task as RMF's task manager runs it: phases made of steps (move somewhere, wait for a
 * workcell), each phase with its events, a TaskState kept in rmf-web's full shape, and the
 * log written as deltas (what `task_log_update` carries).
 */
export type Step = { kind: "move"; place: string; label: string } | { kind: "workcell"; guid: string; seconds: number; label: string };
export type PlannedPhase = { category: string; steps: Step[]; estimateMs: number };

type EventStatus = NonNullable<NonNullable<Phase["events"]>[string]["status"]>;

export class SimTask {
  readonly state: TaskState;
  readonly phases: PlannedPhase[];
  /** Index into phases of the running phase (-1 before start). */
  phase = -1;
  step = 0;
  private seq = 0;
  private delta: TaskEventLog | null = null;
  dirty = true;
  readonly skip = new Set<number>();

  constructor({ id, category, description, request, fleet, robot, phases, now }: {
    id: string;
    category: string;
    description: unknown;
    request: { unix_millis_earliest_start_time?: number; unix_millis_request_time?: number; priority?: Record<string, unknown>; labels?: string[]; requester?: string };
    fleet: string;
    robot: string;
    phases: PlannedPhase[];
    now: number;
  }) {
    this.phases = phases;
    const estimate = phases.reduce((s, p) => s + p.estimateMs, 0);
    this.state = {
      booking: {
        id,
        unix_millis_earliest_start_time: request.unix_millis_earliest_start_time ?? now,
        unix_millis_request_time: request.unix_millis_request_time ?? now,
        priority: request.priority ?? null,
        labels: request.labels ?? [],
        requester: request.requester ?? null,
      },
      category,
      detail: description as TaskState["detail"],
      unix_millis_start_time: null,
      unix_millis_finish_time: null,
      original_estimate_millis: estimate,
      estimate_millis: estimate,
      assigned_to: { group: fleet, name: robot },
      status: "queued",
      dispatch: { status: "dispatched", assignment: { fleet_name: fleet, expected_robot_name: robot }, errors: [] },
      phases: Object.fromEntries(
        phases.map((p, i) => [
          String(i + 1),
          {
            id: i + 1,
            category: p.category,
            detail: "",
            unix_millis_start_time: null,
            unix_millis_finish_time: null,
            original_estimate_millis: p.estimateMs,
            estimate_millis: p.estimateMs,
            final_event_id: 0,
            events: Object.fromEntries([
              ["0", { id: 0, status: "standby" as EventStatus, name: p.category, detail: "", deps: p.steps.map((_, k) => k + 1) }],
              ...p.steps.map((s, k) => [String(k + 1), { id: k + 1, status: "standby" as EventStatus, name: s.label, detail: "", deps: [] }]),
            ]),
            skip_requests: null,
          },
        ]),
      ),
      completed: [],
      active: null,
      pending: phases.map((_, i) => i + 1),
      interruptions: null,
      cancellation: null,
      killed: null,
    };
  }

  get id() {
    return this.state.booking.id;
  }
  get finished() {
    return ["completed", "failed", "canceled", "killed", "skipped"].includes(this.state.status ?? "");
  }
  get currentStep(): Step | undefined {
    return this.phases[this.phase]?.steps[this.step];
  }

  log(text: string, now: number, { tier = "info", phase, event }: { tier?: LogEntry["tier"]; phase?: number; event?: number } = {}) {
    const entry: LogEntry = { seq: this.seq++, tier, unix_millis_time: now, text };
    const d = (this.delta ??= { task_id: this.id, log: [], phases: {} });
    if (phase === undefined) return void d.log!.push(entry);
    const p = (d.phases![String(phase)] ??= { log: [], events: {} });
    if (event === undefined) p.log!.push(entry);
    else (p.events![String(event)] ??= []).push(entry);
  }
  /** The log written since the last call (null when nothing was). */
  takeLog() {
    const d = this.delta;
    this.delta = null;
    return d;
  }

  private event(phase: number, event: number, status: EventStatus) {
    const e = this.state.phases![String(phase + 1)]?.events?.[String(event)];
    if (e) e.status = status;
    this.dirty = true;
  }

  setStatus(status: TaskStatus) {
    this.state.status = status;
    this.dirty = true;
  }

  start(now: number) {
    this.state.unix_millis_start_time = now;
    this.setStatus("underway");
    this.log("Beginning task", now);
    this.enterPhase(0, now);
  }

  /** Moves to phase `i` (skipping phases someone asked to skip); false when none is left. */
  enterPhase(i: number, now: number): boolean {
    while (i < this.phases.length && this.skip.has(i + 1)) {
      this.closePhase(i, "skipped", now);
      i += 1;
    }
    this.phase = i;
    this.step = 0;
    if (i >= this.phases.length) return false;
    const p = this.state.phases![String(i + 1)];
    p.unix_millis_start_time = now;
    this.state.active = i + 1;
    this.state.pending = this.state.pending!.filter((n) => n !== i + 1);
    this.event(i, 0, "underway");
    this.event(i, 1, "underway");
    this.log("Beginning phase", now, { phase: i + 1 });
    this.dirty = true;
    return true;
  }

  private closePhase(i: number, status: EventStatus, now: number) {
    const p = this.state.phases![String(i + 1)];
    if (!p) return;
    p.unix_millis_finish_time = now;
    for (const e of Object.values(p.events ?? {})) if (e.status === "standby" || e.status === "underway") e.status = status;
    this.state.pending = this.state.pending!.filter((n) => n !== i + 1);
    if (!this.state.completed!.includes(i + 1)) this.state.completed!.push(i + 1);
    this.dirty = true;
  }

  /** The current step is done: next step, next phase, or the task is complete (returns false). */
  advance(now: number): boolean {
    this.event(this.phase, this.step + 1, "completed");
    this.step += 1;
    if (this.step < this.phases[this.phase].steps.length) {
      this.event(this.phase, this.step + 1, "underway");
      return true;
    }
    this.closePhase(this.phase, "completed", now);
    this.log("Phase finished", now, { phase: this.phase + 1 });
    if (this.enterPhase(this.phase + 1, now)) return true;
    this.finish("completed", now);
    return false;
  }

  skipPhase(phaseId: number, now: number, labels: string[] = []) {
    const p = this.state.phases![String(phaseId)];
    if (!p) return false;
    p.skip_requests = { ...(p.skip_requests ?? {}), [String(Object.keys(p.skip_requests ?? {}).length)]: { unix_millis_request_time: now, labels, undo: null } };
    this.skip.add(phaseId);
    this.dirty = true;
    return true;
  }

  finish(status: "completed" | "failed" | "canceled" | "killed", now: number, labels: string[] = []) {
    if (this.phase >= 0 && this.phase < this.phases.length) this.closePhase(this.phase, status === "completed" ? "completed" : status, now);
    this.state.unix_millis_finish_time = now;
    this.state.active = null;
    if (status === "canceled") this.state.cancellation = { unix_millis_request_time: now, labels };
    if (status === "killed") this.state.killed = { unix_millis_request_time: now, labels };
    this.setStatus(status);
    this.log(status === "completed" ? "Task completed" : `Task ${status}`, now, { tier: status === "completed" ? "info" : status === "failed" ? "error" : "warning" });
  }
}
