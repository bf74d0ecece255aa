import "server-only";
import { currentRobots } from "../../../robots/robot-views";
import { requestDoor, requestLift, respondAlert } from "../../../robots/task-commands";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZDeviceCommandResponseSchema, ZDoorRequestSchema, ZLiftRequestSchema, ZRespondAlertRequestSchema } from "./devices.types";
import { ZOnRobotsRequestSchema } from "./robots.types";
import { tasksRouter } from "./tasks";

/** Positions arrive at 10 Hz; a window under that period hands the browser every update to draw. */
const ROBOT_BATCH_MS = 40;

export const robotsRouter = router({
  /** Every robot, live (position, battery, status, task, issues), at the fleet adapters' rate. */
  onRobots: liveProcedure("robots.read", () => currentRobots().store.robots.feed, {
    input: ZOnRobotsRequestSchema,
    batchMs: ROBOT_BATCH_MS,
    filter: ({ input }) => (input?.fleet || input?.status ? (r) => (!input.fleet || r.fleet === input.fleet) && (!input.status || r.status === input.status) : undefined),
  }),
  /**
   * The rest of the site in one stream (one browser connection): the building map, fleets,
   * doors and lifts with their states, and alerts with their answers; items by `kind`.
   */
  onSite: liveProcedure("robots.read", () => currentRobots().store.site),

  tasks: tasksRouter,

  doors: router({
    request: procedure("robots.command", { auditTarget: (input) => (input as { door?: string } | undefined)?.door })
      .input(ZDoorRequestSchema)
      .output(ZDeviceCommandResponseSchema)
      .mutation(({ ctx, input }) => requestDoor({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, idempotencyKey: input.idempotencyKey, door: input.door, mode: input.mode === "open" ? 2 : 0 })),
  }),
  lifts: router({
    request: procedure("robots.command", { auditTarget: (input) => (input as { lift?: string } | undefined)?.lift })
      .input(ZLiftRequestSchema)
      .output(ZDeviceCommandResponseSchema)
      .mutation(({ ctx, input }) =>
        requestLift({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, idempotencyKey: input.idempotencyKey, lift: input.lift, destination: input.destination, doorMode: input.doorMode === "open" ? 2 : 0 }),
      ),
  }),
  alerts: router({
    respond: procedure("robots.command", { auditTarget: (input) => (input as { alertId?: string } | undefined)?.alertId })
      .input(ZRespondAlertRequestSchema)
      .output(ZDeviceCommandResponseSchema)
      .mutation(({ ctx, input: { idempotencyKey, alertId, response } }) => respondAlert({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, idempotencyKey, alertId, response })),
  }),
});
