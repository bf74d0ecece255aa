import type { RobotState, RobotStatus } from "../../contracts/rmf";
import { edgeBetween, type Building } from "./building";
import type { SimDoor, SimLift } from "./devices";

/**
 * One robot moving along the nav graph at its own speed: it holds a door open while it
 * passes, calls the lift, rides it and leaves it, and reports what it is waiting for.
 * Battery drains with distance and time, and charges on its charger.
 */
export type Waiting = { kind: "door"; name: string } | { kind: "lift"; name: string; phase: "call" | "ride" } | null;

export type RobotEnv = { building: Building; doors: Map<string, SimDoor>; lift: SimLift };

const LIFT_LOCK = (lift: string) => `lift_${lift}`;
const DRAIN_PER_M = 0.00035;
const DRAIN_PER_S = 0.00003;
const CHARGE_PER_S = 0.004;

export class SimRobot {
  vertex: number;
  level: string;
  x: number;
  y: number;
  yaw = 0;
  battery: number;
  status: RobotStatus = "idle";
  taskId = "";
  issues: RobotState["issues"] = [];
  commission = { dispatch_tasks: true, direct_tasks: true, idle_behavior: true };
  waiting: Waiting = null;
  /** Seconds left standing still behind an obstacle. */
  blockedFor = 0;
  paused = false;
  odometer = 0;
  private path: number[] = [];
  private seg = 0;
  private heldDoor: string | null = null;

  constructor(
    readonly fleet: string,
    readonly name: string,
    readonly charger: number,
    readonly speed: number,
    battery: number,
    private readonly env: RobotEnv,
  ) {
    this.vertex = charger;
    const v = env.building.vertices[charger];
    this.level = v.level;
    this.x = v.x;
    this.y = v.y;
    this.battery = battery;
  }

  get id() {
    return `${this.fleet}/${this.name}`;
  }
  get moving() {
    return this.path.length > 0;
  }
  get onCharger() {
    return !this.moving && this.vertex === this.charger;
  }

  /** Starts moving along `path` (vertex indices from the current vertex). */
  go(path: number[]) {
    this.stop();
    const here = this.env.building.vertices[this.vertex];
    // Stopped between vertices: walk back onto the graph first.
    const offGraph = Math.hypot(here.x - this.x, here.y - this.y) > 1e-6;
    this.path = offGraph ? [this.vertex, ...path] : path.length > 1 ? path : [];
    this.seg = 0;
  }

  /** Stops where it is (between vertices it snaps back to the last one it passed). Releases doors and the lift. */
  stop() {
    if (this.heldDoor) this.env.doors.get(this.heldDoor)?.release(this.id);
    this.heldDoor = null;
    if (this.waiting?.kind === "lift" || this.path.length) this.env.lift.end(this.id);
    if (this.path.length) {
      const v = this.env.building.vertices[this.path[this.seg]];
      this.vertex = v.idx;
      this.level = v.level;
    }
    this.path = [];
    this.waiting = null;
  }

  /** Advances `dt` simulated seconds; returns true when the current path was finished. */
  tick(dt: number): boolean {
    if (this.onCharger && this.status !== "working") this.battery = Math.min(1, this.battery + CHARGE_PER_S * dt);
    else this.battery = Math.max(0, this.battery - DRAIN_PER_S * dt);
    if (!this.path.length || this.paused) return false;
    if (this.blockedFor > 0) {
      this.blockedFor = Math.max(0, this.blockedFor - dt);
      return false;
    }
    let budget = this.speed * dt;
    const { vertices } = this.env.building;
    while (budget > 0 && this.seg < this.path.length - 1) {
      const from = vertices[this.path[this.seg]];
      const to = vertices[this.path[this.seg + 1]];
      const edge = edgeBetween(this.env.building, from.idx, to.idx);
      if (edge?.lift) {
        if (!this.rideLift(from.level, to.level)) return false;
        this.level = to.level;
        this.vertex = to.idx;
        this.seg += 1;
        continue;
      }
      if (edge?.door && this.heldDoor !== edge.door) {
        const door = this.env.doors.get(edge.door)!;
        door.hold(this.id);
        this.heldDoor = edge.door;
      }
      if (this.heldDoor && !this.env.doors.get(this.heldDoor)!.isOpen) {
        this.waiting = { kind: "door", name: this.heldDoor };
        return false;
      }
      this.waiting = null;
      const dx = to.x - this.x;
      const dy = to.y - this.y;
      const left = Math.hypot(dx, dy);
      if (left > 1e-9) this.yaw = Math.atan2(dy, dx);
      const step = Math.min(left, budget);
      budget -= step;
      this.odometer += step;
      this.battery = Math.max(0, this.battery - DRAIN_PER_M * step);
      if (step >= left) {
        this.x = to.x;
        this.y = to.y;
        this.vertex = to.idx;
        this.seg += 1;
        if (this.heldDoor) {
          this.env.doors.get(this.heldDoor)!.release(this.id);
          this.heldDoor = null;
        }
      } else {
        this.x += (dx / left) * step;
        this.y += (dy / left) * step;
      }
    }
    if (this.seg < this.path.length - 1) return false;
    this.path = [];
    this.seg = 0;
    return true;
  }

  /** Calls the lift to `from`, boards, rides to `to`; true once it can step out there. */
  private rideLift(from: string, to: string) {
    const lift = this.env.lift;
    const phase = this.waiting?.kind === "lift" ? this.waiting.phase : "call";
    if (phase === "call") {
      lift.request(this.id, 1, from, 2);
      this.waiting = { kind: "lift", name: lift.name, phase: "call" };
      if (!lift.readyFor(this.id, from)) return false;
      this.waiting = { kind: "lift", name: lift.name, phase: "ride" };
    }
    lift.request(this.id, 1, to, 2);
    if (!lift.readyFor(this.id, to)) return false;
    lift.end(this.id);
    this.waiting = null;
    return true;
  }

  state(now: number): RobotState {
    return {
      name: this.name,
      status: this.status,
      task_id: this.taskId,
      unix_millis_time: now,
      location: { map: this.level, x: round(this.x), y: round(this.y), yaw: round(this.yaw) },
      battery: round(this.battery, 4),
      issues: this.issues,
      commission: { ...this.commission },
      mutex_groups: {
        locked: this.waiting?.kind === "lift" && this.waiting.phase === "ride" ? [LIFT_LOCK(this.waiting.name)] : [],
        requesting: this.waiting?.kind === "lift" && this.waiting.phase === "call" ? [LIFT_LOCK(this.waiting.name)] : [],
      },
    };
  }
}

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
