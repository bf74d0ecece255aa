import type { DoorState, LiftState, RobotStatus, TaskStatus } from "@/contracts/rmf";

const ROBOT_TONE: Record<RobotStatus, string> = {
  idle: "badge-info",
  working: "badge-ok",
  charging: "badge-info",
  error: "badge-danger",
  offline: "badge-warn",
  shutdown: "badge-warn",
  uninitialized: "",
};
export const ROBOT_STATUS_LABELS: Record<RobotStatus, string> = {
  idle: "Idle",
  working: "Working",
  charging: "Charging",
  error: "Error",
  offline: "Offline",
  shutdown: "Shut down",
  uninitialized: "Unknown",
};
export const RobotStatusBadge = ({ status }: { status: RobotStatus | null }) => (
  <span className={`badge ${status ? ROBOT_TONE[status] : ""}`} data-status={status ?? "unknown"}>
    {status ? ROBOT_STATUS_LABELS[status] : "Unknown"}
  </span>
);

const TASK_TONE: Partial<Record<TaskStatus, string>> = {
  completed: "badge-ok",
  underway: "badge-info",
  queued: "",
  standby: "",
  delayed: "badge-warn",
  blocked: "badge-warn",
  error: "badge-danger",
  failed: "badge-danger",
  canceled: "badge-warn",
  killed: "badge-danger",
};
export const TASK_STATUS_LABELS: Record<TaskStatus, string> = {
  uninitialized: "Unknown",
  blocked: "Blocked",
  error: "Error",
  failed: "Failed",
  queued: "Queued",
  standby: "Standby",
  underway: "Underway",
  delayed: "Delayed",
  skipped: "Skipped",
  canceled: "Canceled",
  killed: "Killed",
  completed: "Completed",
};
export const TaskStatusBadge = ({ status }: { status: TaskStatus | null }) => (
  <span className={`badge ${status ? (TASK_TONE[status] ?? "") : ""}`} data-status={status ?? "unknown"}>
    {status ? TASK_STATUS_LABELS[status] : "Unknown"}
  </span>
);

/** DoorMode 0 closed, 1 moving, 2 open, 3 offline, 4 unknown. */
export const DOOR_MODES = [
  { label: "Closed", tone: "badge-danger", colour: "#d93a2f" },
  { label: "Moving", tone: "badge-warn", colour: "#d98b06" },
  { label: "Open", tone: "badge-ok", colour: "#1f9d4e" },
  { label: "Offline", tone: "", colour: "#8a94a3" },
  { label: "Unknown", tone: "", colour: "#8a94a3" },
] as const;
export const doorMode = (state: DoorState | null) => DOOR_MODES[state?.current_mode.value ?? 4] ?? DOOR_MODES[4];
export const DoorBadge = ({ state }: { state: DoorState | null }) => {
  const mode = doorMode(state);
  return (
    <span className={`badge ${mode.tone}`} data-mode={mode.label.toLowerCase()}>
      {mode.label}
    </span>
  );
};

const LIFT_MOTION = ["stopped", "going up", "going down", "motion unknown"];
const LIFT_DOOR = ["doors closed", "doors moving", "doors open"];
const LIFT_MODE = ["unknown mode", "human", "AGV", "fire", "offline", "emergency"];
/** "At L1, doors open (AGV)" / "L1 → L2, going up". */
export const describeLift = (state: LiftState | null) => {
  if (!state) return "No state yet";
  const where = state.destination_floor && state.destination_floor !== state.current_floor ? `${state.current_floor} → ${state.destination_floor}, ${LIFT_MOTION[state.motion_state]}` : `At ${state.current_floor}`;
  return `${where}, ${LIFT_DOOR[state.door_state]} (${LIFT_MODE[state.current_mode]})`;
};
export const liftColour = (state: LiftState | null, level: string) => {
  if (!state || state.current_mode === 4) return "#8a94a3";
  if (state.current_mode === 3 || state.current_mode === 5) return "#d93a2f";
  if (state.current_floor === level) return state.door_state === 2 ? "#1f9d4e" : "#2458d3";
  return "#c4cad3";
};

export const formatBattery = (battery: number | null) => (battery === null ? "—" : `${Math.round(battery * 100)} %`);
