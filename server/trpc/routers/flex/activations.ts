import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { seesParticipant } from "../../../flex/act-as";
import { signalFlexActivation } from "../../../flex/trade-actions";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZOnStepsRequestSchema, ZSignalRequestSchema } from "./activations.types";
import { ZFlexCommandResponseSchema } from "./requests.types";

export const activationsRouter = router({
  /** Steps of the trades the caller may see, live (a trader: their own participant's trades). */
  onSteps: liveProcedure("flex.read", () => requireConnector("flex").store.steps.feed, {
    input: ZOnStepsRequestSchema,
    filter: ({ ctx, input }) => {
      const { store } = requireConnector("flex");
      return (s) => {
        if (input?.nodeId && s.nodeId !== input.nodeId) return false;
        if (input?.tradeId && s.tradeId !== input.tradeId) return false;
        const trade = store.trades.get(`${s.nodeId}/${s.tradeId}`);
        return trade ? seesParticipant(ctx.user, trade.buyerId) : ctx.user.role !== "trader";
      };
    },
  }),

  /** The LFC signal for one of the caller's trades: the level asked of it until `until` (0 ends it). */
  signal: procedure("flex.trade", { auditTarget: (input) => (input as { tradeId?: string } | undefined)?.tradeId })
    .input(ZSignalRequestSchema)
    .output(ZFlexCommandResponseSchema)
    .mutation(({ ctx, input: { idempotencyKey, ...signal } }) => signalFlexActivation({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, idempotencyKey }, signal)),
});
