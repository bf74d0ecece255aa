import "server-only";
import { dispatchTask } from "../../../robots/dispatch-task";
import { currentRobots, getTask, placesOf } from "../../../robots/robot-views";
import { stopTask } from "../../../robots/task-commands";
import { viaUpstream } from "../../../errors";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import {
  ZDispatchOptionsResponseSchema,
  ZDispatchTaskRequestSchema,
  ZGetTaskLogResponseSchema,
  ZGetTaskRequestSchema,
  ZGetTaskResponseSchema,
  ZOnTasksRequestSchema,
  ZStopTaskRequestSchema,
  ZTaskCommandResponseSchema,
} from "./tasks.types";

const taskTarget = (input: unknown) => (input as { taskId?: string } | undefined)?.taskId;

export const tasksRouter = router({
  /**
   * The task queue, live: every unfinished task and the newest finished ones the view keeps;
   * the browser filters, sorts and pages. With `taskId` only that task is streamed.
   */
  onChange: liveProcedure("robots.read", () => currentRobots().store.tasks.feed, {
    input: ZOnTasksRequestSchema,
    filter: ({ input }) => {
      const id = input?.taskId;
      return id ? (t) => t.booking.id === id : undefined;
    },
  }),

  get: procedure("robots.read")
    .input(ZGetTaskRequestSchema)
    .output(ZGetTaskResponseSchema)
    .query(({ input }) => getTask(input.taskId)),

  /** The task's log of the last hour (RMF keeps the rest; `between` on its REST API). */
  log: procedure("robots.read")
    .input(ZGetTaskRequestSchema)
    .output(ZGetTaskLogResponseSchema)
    .query(async ({ input }) => {
      await getTask(input.taskId);
      return viaUpstream(currentRobots().client.taskLog(input.taskId), `Task ${input.taskId}`);
    }),

  /** What a dispatch may name: places by level from the map, fleets, dispensers and ingestors. */
  dispatchOptions: procedure("robots.read")
    .output(ZDispatchOptionsResponseSchema)
    .query(async () => {
      const { store, client } = currentRobots();
      const [dispensers, ingestors] = await Promise.all([viaUpstream(client.workcells("dispensers")), viaUpstream(client.workcells("ingestors"))]);
      return { places: placesOf([...store.map.values()][0]), fleets: [...store.fleets.values()].map((f) => f.name).sort(), dispensers, ingestors };
    }),

  /** A patrol or delivery through the command path; answers with its outcome (`result.taskId`). */
  dispatch: procedure("robots.command", { auditTarget: (input) => (input as { category?: string } | undefined)?.category })
    .input(ZDispatchTaskRequestSchema)
    .output(ZTaskCommandResponseSchema)
    .mutation(({ ctx, input: { idempotencyKey, ...spec } }) => dispatchTask({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, idempotencyKey, spec })),

  cancel: procedure("robots.command", { auditTarget: taskTarget })
    .input(ZStopTaskRequestSchema)
    .output(ZTaskCommandResponseSchema)
    .mutation(({ ctx, input }) => stopTask({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, action: "cancel", ...input })),

  /** Stops the robot where it stands; needs `confirm: true`. */
  kill: procedure("robots.command", { auditTarget: taskTarget })
    .input(ZStopTaskRequestSchema)
    .output(ZTaskCommandResponseSchema)
    .mutation(({ ctx, input }) => stopTask({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, action: "kill", ...input })),
});
