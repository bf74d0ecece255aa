import "server-only";
import type { DoorRequest, LiftRequest } from "../../contracts/rmf";
import type { CommandActor } from "../commands/submit-command";
import type { Db } from "../db";
import { AppError } from "../errors";
import { currentRobots, getTask, isFinished } from "./robot-views";
import { fromRmfResponse, sendRobotsCommand } from "./send-robots-command";

type Base = { db: Db; actor: CommandActor; traceId: string; idempotencyKey: string };

/** Cancel or kill one task. A kill stops the robot where it stands, so it needs `confirm: true`. */
export const stopTask = async ({ action, taskId, confirm, ...base }: Base & { action: "cancel" | "kill"; taskId: string; confirm?: boolean }) => {
  if (action === "kill" && confirm !== true) throw new AppError("BAD_REQUEST", "Killing a task stops its robot where it stands; confirm it explicitly.", "confirm");
  const task = await getTask(taskId);
  if (isFinished(task)) throw new AppError("CONFLICT", `Task ${taskId} is already ${task.status}.`);
  const { client } = currentRobots();
  return sendRobotsCommand({
    ...base,
    target: taskId,
    action: `${action}_task`,
    payload: {},
    send: async (signal) => fromRmfResponse(await client.taskCommand(base.actor.email, action === "kill" ? "kill_task" : "cancel_task", taskId, signal)),
  });
};

/** Door open/close: accepted once main passed it to the door adapter; the door's room shows it move. */
export const requestDoor = ({ door, mode, ...base }: Base & { door: string; mode: DoorRequest["mode"] }) => {
  const { client, store } = currentRobots();
  if (!store.doors.has(door)) throw new AppError("NOT_FOUND", `Door ${door.slice(0, 60)} does not exist.`);
  return sendRobotsCommand({
    ...base,
    target: door,
    action: mode === 2 ? "open_door" : "close_door",
    payload: { mode },
    send: async (signal) => {
      await client.doorRequest(base.actor.email, door, { mode }, signal);
      return { status: "accepted" };
    },
  });
};

/** Calls a lift to a floor (an AGV-mode session in the user's name, as rmf-web's dashboard does). */
export const requestLift = ({ lift, destination, doorMode, ...base }: Base & { lift: string; destination: string; doorMode: LiftRequest["door_mode"] }) => {
  const { client, store } = currentRobots();
  const known = store.lifts.get(lift);
  if (!known) throw new AppError("NOT_FOUND", `Lift ${lift.slice(0, 60)} does not exist.`);
  const floors = known.state?.available_floors ?? known.definition?.levels ?? [];
  if (floors.length > 0 && !floors.includes(destination)) throw new AppError("BAD_REQUEST", `${lift} does not serve floor ${destination}; it serves ${floors.join(", ")}.`, "destination");
  return sendRobotsCommand({
    ...base,
    target: lift,
    action: "request_lift",
    payload: { destination, doorMode },
    send: async (signal) => {
      await client.liftRequest(base.actor.email, lift, { request_type: 1, door_mode: doorMode, destination }, signal);
      return { status: "accepted" };
    },
  });
};

/** Answers an alert with one of the responses it offers. */
export const respondAlert = ({ alertId, response, ...base }: Base & { alertId: string; response: string }) => {
  const { client, store } = currentRobots();
  const alert = store.alerts.get(alertId);
  if (!alert) throw new AppError("NOT_FOUND", `Alert ${alertId.slice(0, 60)} does not exist.`);
  if (alert.response) throw new AppError("CONFLICT", `This alert was already answered (“${alert.response.response}”).`);
  if (!alert.responses_available.includes(response)) throw new AppError("BAD_REQUEST", `“${response}” is not one of this alert's responses (${alert.responses_available.join(", ") || "none"}).`, "response");
  return sendRobotsCommand({
    ...base,
    target: alertId,
    action: "respond_alert",
    payload: { response },
    send: async (signal) => {
      const answer = await client.respondAlert(base.actor.email, alertId, response, signal);
      store.alerts.upsert({ ...alert, response: answer });
      return { status: "accepted", result: { response: answer.response } };
    },
  });
};
