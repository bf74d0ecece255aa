import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { UpstreamHttpError } from "../../../connectors/kit/upstream-errors";
import { seesParticipant } from "../../../flex/act-as";
import { cancelFlexRequest, createFlexRequest, reviseFlexRequest } from "../../../flex/trade-actions";
import { AppError, fromUpstream } from "../../../errors";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import {
  ZCancelRequestRequestSchema,
  ZCreateRequestRequestSchema,
  ZFlexCommandResponseSchema,
  ZGetRequestRequestSchema,
  ZGetRequestResponseSchema,
  ZOnRequestsChangeRequestSchema,
  ZReviseRequestRequestSchema,
} from "./requests.types";

const target = (input: unknown) => {
  const i = input as { nodeId?: string; requestId?: string } | undefined;
  return i?.requestId ? `${i.nodeId}/${i.requestId}` : undefined;
};

export const requestsRouter = router({
  /** Requests, live; a trader sees only their own participant's. */
  onChange: liveProcedure("flex.read", () => requireConnector("flex").store.requests.feed, {
    input: ZOnRequestsChangeRequestSchema,
    filter: ({ ctx, input }) => (r) => seesParticipant(ctx.user, r.buyerId) && (!input?.nodeId || r.nodeId === input.nodeId),
  }),

  /** One request with its revisions (NOT_FOUND for someone else's, as for an unknown one). */
  get: procedure("flex.read")
    .input(ZGetRequestRequestSchema)
    .output(ZGetRequestResponseSchema)
    .query(async ({ ctx, input }) => {
      const flex = requireConnector("flex");
      const node = flex.nodes.get(input.nodeId);
      const missing = () => new AppError("NOT_FOUND", `Request ${input.requestId.slice(0, 80)} does not exist.`);
      if (!node) throw missing();
      try {
        const request = await node.client.getRequest(input.requestId);
        if (!seesParticipant(ctx.user, request.buyerId)) throw missing();
        return request;
      } catch (error) {
        if (error instanceof UpstreamHttpError && (error.status === 404 || error.status === 400)) throw missing();
        throw fromUpstream(error, `Request ${input.requestId}`);
      }
    }),

  /** A new request for the caller's participant (an admin names one); answers with the node's verdict. */
  create: procedure("flex.trade", { auditTarget: (input) => (input as { participantId?: string } | undefined)?.participantId ?? "own participant" })
    .input(ZCreateRequestRequestSchema)
    .output(ZFlexCommandResponseSchema)
    .mutation(({ ctx, input: { idempotencyKey, ...fields } }) => createFlexRequest({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, idempotencyKey }, fields)),

  /** A new revision of an active request of the caller's participant. */
  revise: procedure("flex.trade", { auditTarget: target })
    .input(ZReviseRequestRequestSchema)
    .output(ZFlexCommandResponseSchema)
    .mutation(({ ctx, input: { idempotencyKey, ...change } }) => reviseFlexRequest({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, idempotencyKey }, change)),

  cancel: procedure("flex.trade", { auditTarget: target })
    .input(ZCancelRequestRequestSchema)
    .output(ZFlexCommandResponseSchema)
    .mutation(({ ctx, input: { idempotencyKey, ...which } }) => cancelFlexRequest({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, idempotencyKey }, which)),
});
