import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { seesParticipant } from "../../../flex/act-as";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZGetContextResponseSchema, ZOnDepthRequestSchema, ZOnNodeFeedRequestSchema } from "./market.types";

const onNode = (nodeId: string | undefined) => (x: { nodeId: string }) => !nodeId || x.nodeId === nodeId;

export const marketRouter = router({
  /** Whom the caller acts for, and every node with its grid nodes and timing. */
  context: procedure("flex.read")
    .output(ZGetContextResponseSchema)
    .query(({ ctx }) => {
      const flex = requireConnector("flex");
      const trader = ctx.user.role === "trader";
      const participants = [...flex.traders.values()]
        .filter((t) => (trader ? t.participantId === ctx.user.participantId : ctx.user.role === "admin"))
        .map(({ participantId, nodeId }) => ({ participantId, nodeId }));
      const nodes = [...flex.nodes.values()].map(({ nodeId, view }) => {
        const n = flex.store.nodes.get(nodeId);
        return { nodeId, role: n?.role ?? null, gridNodes: n?.gridNodes ?? [], periodMs: n?.periodMs ?? 0, bundleIntervalMs: n?.bundleIntervalMs ?? 0, stepMs: n?.stepMs ?? 0, connected: view.status().connected };
      });
      return { participantId: trader ? ctx.user.participantId : null, canTrade: ctx.user.role === "trader" || ctx.user.role === "admin", participants, nodes };
    }),

  /** Each node's health and device counts (every 5 s from its feed). */
  onNodes: liveProcedure("flex.read", () => requireConnector("flex").store.nodes.feed, { input: ZOnNodeFeedRequestSchema, filter: ({ input }) => onNode(input?.nodeId) }),

  /** Order-book depth (merit curves without identities) per node, grid node and direction, every round. */
  onDepth: liveProcedure("flex.read", () => requireConnector("flex").store.depth.feed, {
    input: ZOnDepthRequestSchema,
    filter: ({ input }) => (d) => onNode(input?.nodeId)(d) && (!input?.gridNodeId || d.gridNodeId === input.gridNodeId) && (!input?.direction || d.direction === input.direction),
  }),

  /** Bundles of the coming and recent windows, re-formed every round until sealed. */
  onBundles: liveProcedure("flex.read", () => requireConnector("flex").store.bundles.feed, { input: ZOnNodeFeedRequestSchema, filter: ({ input }) => onNode(input?.nodeId) }),

  /** Awards; a trader sees only their own participant's. */
  onTrades: liveProcedure("flex.read", () => requireConnector("flex").store.trades.feed, {
    input: ZOnNodeFeedRequestSchema,
    filter: ({ ctx, input }) => (t) => seesParticipant(ctx.user, t.buyerId) && onNode(input?.nodeId)(t),
  }),
});
