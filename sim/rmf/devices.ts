import { DOOR_MODE, LIFT_DOOR, LIFT_MODE, LIFT_MOTION, type DispenserState, type DoorState, type LiftState } from "../../contracts/rmf";

/**
 * Door, lift and workcell adapters as RMF runs them: state machines that react to
 * requests (robots' and operators') with realistic timings, in simulated seconds. Each
 * reports `changed` after a tick that moved it, so only changes are published.
 */
const rosTime = (ms: number) => ({ sec: Math.floor(ms / 1000), nanosec: Math.floor(ms % 1000) * 1_000_000 });

const DOOR_TRAVEL_S = 2;
export class SimDoor {
  mode: number = DOOR_MODE.closed;
  private target: number = DOOR_MODE.closed;
  private travel = 0;
  /** Robots that need it open right now. */
  readonly holders = new Set<string>();
  /** An operator's last request (held until the next one). */
  private manual: number | null = null;
  changed = true;

  constructor(readonly name: string) {}

  request(mode: number) {
    this.manual = mode;
  }
  hold(who: string) {
    this.holders.add(who);
  }
  release(who: string) {
    this.holders.delete(who);
    // Once the robots are through, an operator's "open" no longer keeps it open.
    if (!this.holders.size && this.manual === DOOR_MODE.open) this.manual = null;
  }

  tick(dt: number) {
    const want = this.holders.size > 0 || this.manual === DOOR_MODE.open ? DOOR_MODE.open : DOOR_MODE.closed;
    if (want !== this.target) {
      this.target = want;
      this.travel = this.mode === DOOR_MODE.moving ? DOOR_TRAVEL_S - this.travel : DOOR_TRAVEL_S;
      if (this.mode !== want) {
        this.mode = DOOR_MODE.moving;
        this.changed = true;
      }
    }
    if (this.mode !== DOOR_MODE.moving) return;
    this.travel -= dt;
    if (this.travel > 0) return;
    this.mode = this.target;
    this.changed = true;
  }

  get isOpen() {
    return this.mode === DOOR_MODE.open;
  }

  state(now: number): DoorState {
    return { door_time: rosTime(now), door_name: this.name, current_mode: { value: this.mode } };
  }
}

const FLOOR_TRAVEL_S = 4;
const LIFT_DOOR_S = 1.5;
type LiftRequest = { session: string; destination: string; door: number };

export class SimLift {
  current: string;
  destination: string;
  door: number = LIFT_DOOR.closed;
  motion: number = LIFT_MOTION.stopped;
  session = "";
  private readonly queue: LiftRequest[] = [];
  private active: LiftRequest | null = null;
  private timer = 0;
  changed = true;

  constructor(
    readonly name: string,
    readonly floors: string[],
  ) {
    this.current = floors[0];
    this.destination = floors[0];
  }

  /** request_type 0 ends the session; anything else asks for `destination` with the door `door`. */
  request(session: string, requestType: number, destination: string, door: number) {
    if (requestType === 0) return this.end(session);
    if (!this.floors.includes(destination)) return;
    if (this.active?.session === session) {
      this.active = { session, destination, door };
      return;
    }
    const queued = this.queue.find((r) => r.session === session);
    if (queued) Object.assign(queued, { destination, door });
    else this.queue.push({ session, destination, door });
  }

  end(session: string) {
    const i = this.queue.findIndex((r) => r.session === session);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.active?.session === session) {
      this.active = null;
      this.session = "";
      this.changed = true;
    }
  }

  /** The session is at `floor` with its door open. */
  readyFor(session: string, floor: string) {
    return this.session === session && this.current === floor && this.door === LIFT_DOOR.open && this.motion === LIFT_MOTION.stopped;
  }

  private set<K extends "door" | "motion" | "current" | "destination" | "session">(key: K, value: this[K]) {
    if (this[key] === value) return;
    this[key] = value;
    this.changed = true;
  }

  tick(dt: number) {
    if (!this.active && this.queue.length) this.active = this.queue.shift()!;
    const want = this.active;
    this.set("session", want?.session ?? "");
    this.set("destination", want?.destination ?? this.current);
    if (this.timer > 0) {
      this.timer -= dt;
      if (this.timer > 0) return;
      // Finish whatever was in progress.
      if (this.door === LIFT_DOOR.moving) this.set("door", this.pendingDoor);
      if (this.motion !== LIFT_MOTION.stopped) {
        const i = this.floors.indexOf(this.current) + (this.motion === LIFT_MOTION.up ? 1 : -1);
        this.set("current", this.floors[i]);
        this.set("motion", LIFT_MOTION.stopped);
      }
    }
    const targetFloor = want?.destination ?? this.current;
    if (targetFloor !== this.current) {
      if (this.door !== LIFT_DOOR.closed) return this.moveDoor(LIFT_DOOR.closed);
      const up = this.floors.indexOf(targetFloor) > this.floors.indexOf(this.current);
      this.set("motion", up ? LIFT_MOTION.up : LIFT_MOTION.down);
      this.timer = FLOOR_TRAVEL_S;
      return;
    }
    const door = want ? want.door : LIFT_DOOR.closed;
    if (this.door !== door) this.moveDoor(door);
  }

  private pendingDoor: number = LIFT_DOOR.closed;
  private moveDoor(to: number) {
    this.pendingDoor = to;
    this.set("door", LIFT_DOOR.moving);
    this.timer = LIFT_DOOR_S;
  }

  state(now: number): LiftState {
    return {
      lift_time: rosTime(now),
      lift_name: this.name,
      available_floors: this.floors,
      current_floor: this.current,
      destination_floor: this.destination,
      door_state: this.door,
      motion_state: this.motion,
      available_modes: [LIFT_MODE.human, LIFT_MODE.agv],
      current_mode: LIFT_MODE.agv,
      session_id: this.session,
    };
  }
}

/** A dispenser or ingestor: one request at a time, `seconds` each, in arrival order. */
export class SimWorkcell {
  private readonly queue: { id: string; seconds: number }[] = [];
  private remaining = 0;
  private readonly done = new Set<string>();
  changed = true;

  constructor(
    readonly guid: string,
    readonly kind: "dispenser" | "ingestor",
  ) {}

  request(id: string, seconds: number) {
    this.queue.push({ id, seconds });
    if (this.queue.length === 1) this.remaining = seconds;
    this.changed = true;
  }
  /** True once (then forgotten) when `id`'s request is finished. */
  take(id: string) {
    return this.done.delete(id);
  }

  tick(dt: number) {
    if (!this.queue.length) return;
    const before = Math.ceil(this.remaining);
    this.remaining -= dt;
    if (Math.ceil(this.remaining) !== before) this.changed = true;
    if (this.remaining > 0) return;
    this.done.add(this.queue.shift()!.id);
    this.remaining = this.queue[0]?.seconds ?? 0;
    this.changed = true;
  }

  state(now: number): DispenserState {
    return { time: rosTime(now), guid: this.guid, mode: this.queue.length ? 1 : 0, request_guid_queue: this.queue.map((q) => q.id), seconds_remaining: Math.max(0, Math.round(this.remaining * 10) / 10) };
  }
}
