import "server-only";
import { deliveryDescriptionSchema, patrolDescriptionSchema, type TaskRequest } from "../../contracts/rmf";
import type { CommandActor } from "../commands/submit-command";
import type { Db } from "../db";
import { AppError } from "../errors";
import { currentRobots, placesOf } from "./robot-views";
import { sendRobotsCommand } from "./send-robots-command";

export type DispatchSpec =
  | { category: "patrol"; places: string[]; rounds: number; fleet?: string }
  | { category: "delivery"; pickup: { place: string; handler: string }; dropoff: { place: string; handler: string }; sku: string; quantity: number; fleet?: string };

export type DispatchTaskOptions = { db: Db; actor: CommandActor; traceId: string; idempotencyKey: string; spec: DispatchSpec };

/** The RMF task request for a form's spec, built with the contract's description schemas. */
export const toTaskRequest = (spec: DispatchSpec, requester: string): TaskRequest => {
  const payload = spec.category === "delivery" ? [{ sku: spec.sku, quantity: spec.quantity }] : [];
  const description =
    spec.category === "patrol"
      ? patrolDescriptionSchema.parse({ places: spec.places, rounds: spec.rounds })
      : deliveryDescriptionSchema.parse({ pickup: { ...spec.pickup, payload }, dropoff: { ...spec.dropoff, payload } });
  return { category: spec.category, description, requester, unix_millis_request_time: Date.now(), labels: ["switchyard"], ...(spec.fleet ? { fleet_name: spec.fleet } : {}) };
};

/**
 * Checks a dispatch against what the view knows (places on the map, fleets) before anything
 * is stored, so a typo is a field error and not a rejected command; RMF still has the last
 * word (its refusal becomes the command's outcome).
 */
const checkAgainstSite = (spec: DispatchSpec) => {
  const { store } = currentRobots();
  const map = [...store.map.values()][0];
  if (map) {
    const known = new Set(placesOf(map).map((p) => p.name));
    const named: [string, string][] =
      spec.category === "patrol" ? spec.places.map((p, i) => [`places.${i}`, p]) : [["pickup.place", spec.pickup.place], ["dropoff.place", spec.dropoff.place]];
    for (const [field, place] of named) if (!known.has(place)) throw new AppError("BAD_REQUEST", `There is no place called “${place}” on the building map.`, field);
  }
  if (spec.fleet && store.fleets.size > 0 && !store.fleets.has(spec.fleet)) throw new AppError("BAD_REQUEST", `There is no fleet called “${spec.fleet}”.`, "fleet");
};

/** Dispatches a patrol or delivery through the command path; answers with the outcome (the new task id in `result.taskId`). */
export const dispatchTask = async ({ db, actor, traceId, idempotencyKey, spec }: DispatchTaskOptions) => {
  const robots = currentRobots();
  checkAgainstSite(spec);
  const request = toTaskRequest(spec, actor.email);
  return sendRobotsCommand({
    db,
    actor,
    traceId,
    idempotencyKey,
    target: spec.fleet ?? "any fleet",
    action: `dispatch_${spec.category}`,
    payload: { request },
    waitForOutcome: true,
    send: async (signal) => {
      const answer = await robots.client.dispatchTask(actor.email, request, signal);
      if (!answer.success) return { status: "rejected", error: answer.errors.map((e) => [e.category, e.detail].filter(Boolean).join(": ")).join("; ") };
      const taskId = answer.state.booking.id;
      robots.store.tasks.upsert(answer.state);
      void robots.view.trackTask(taskId);
      return { status: "accepted", result: { taskId } };
    },
  });
};
