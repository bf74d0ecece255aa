import "server-only";
import { TERMINAL_TASK_STATUSES, type BuildingMap, type TaskState } from "../../contracts/rmf";
import { requireConnector } from "../connectors/kit/registry";
import { AppError, viaUpstream } from "../errors";

/** The robots connector's store (NOT running → the clear PRECONDITION_FAILED every page shows). */
export const currentRobots = () => requireConnector("robots");

export const isFinished = (task: TaskState) => task.status !== null && TERMINAL_TASK_STATUSES.includes(task.status);

/** Places by level from the building map: what a dispatch form offers and what a task may name. */
export const placesOf = (map: BuildingMap | undefined) =>
  (map?.levels ?? []).flatMap((level) => level.places.map((p) => ({ name: p.name, level: level.name }))).filter((p) => p.name.length > 0);

/** A task from the view, else from RMF; unknown → NOT_FOUND. */
export const getTask = async (taskId: string) => {
  const robots = currentRobots();
  const known = robots.store.tasks.get(taskId);
  if (known) return known;
  if (taskId.length === 0 || taskId.length > 256 || taskId.includes("/")) throw new AppError("NOT_FOUND", `Task ${taskId.slice(0, 60)} does not exist.`);
  return viaUpstream(robots.client.task(taskId), `Task ${taskId}`);
};
