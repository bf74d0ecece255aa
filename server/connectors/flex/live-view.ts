import "server-only";
import { feedEventSchemas, type NodeHealth, type NodeInfo } from "../../../contracts/flex/api";
import { logger } from "../../../lib/log";
import type { UpstreamHealth } from "../health";
import { startLiveView, type LiveViewTiming } from "../kit/live-view";
import type { FlexClient } from "./client";
import { flexStore, pruneFlexStore, replaceNodeItems, type FlexNodeView, type FlexStore } from "./store";

export type FlexLiveViewOptions = LiveViewTiming & { client: FlexClient; health: UpstreamHealth; store?: FlexStore };

/** The health bar's id of one node's link: one link per node. */
export const flexLinkId = (nodeId: string) => `flex:${nodeId}`;

/**
 * One flex node on the kit's snapshot-then-follow loop: the feed's own `snapshot` event
 * (read with GET /node for the market timing) fills that node's part of the store, then
 * the feed's events upsert requests, depth, bundles, trades, activation steps,
 * settlements and the node's health.
 */
export const startFlexLiveView = ({ client, health, store = flexStore(), ...timing }: FlexLiveViewOptions) => {
  const { nodeId } = client;
  let info: NodeInfo | undefined;
  const nodeView = (h: NodeHealth): FlexNodeView => ({
    ...h,
    nodeId,
    periodMs: info?.periodMs ?? 0,
    bundleIntervalMs: info?.bundleIntervalMs ?? 0,
    stepMs: info?.stepMs ?? 0,
    gridNodes: info?.gridNodes ?? [],
  });
  return startLiveView({
    ...timing,
    id: flexLinkId(nodeId),
    client: client.http,
    health,
    fetchSnapshot: async (signal) => {
      info = await client.node(signal);
      return client.feedSnapshot(signal);
    },
    applySnapshot: ({ snapshot: s, position }) => {
      const on = <T extends object>(items: T[]) => items.map((x) => ({ ...x, nodeId }));
      store.nodes.upsert(nodeView(s.health));
      const changed =
        replaceNodeItems(store.requests, nodeId, s.requests) +
        replaceNodeItems(store.depth, nodeId, on(s.depth)) +
        replaceNodeItems(store.bundles, nodeId, s.bundles) +
        replaceNodeItems(store.trades, nodeId, s.trades) +
        replaceNodeItems(store.steps, nodeId, on(s.steps)) +
        replaceNodeItems(store.settlements, nodeId, on(s.settlements));
      logger().debug({ connector: "flex", nodeId, requests: s.requests.length, trades: s.trades.length, changed }, "flex node snapshot");
      return position;
    },
    eventsPath: "/api/v1/events",
    events: {
      health: {
        schema: feedEventSchemas.health,
        apply: (h) => {
          store.nodes.upsert(nodeView(h));
          // Every 5 s: a good moment to let old steps and bundles go.
          pruneFlexStore(store);
        },
      },
      depth: { schema: feedEventSchemas.depth, apply: (d) => store.depth.upsert({ ...d, nodeId }) },
      bundle: { schema: feedEventSchemas.bundle, apply: (b) => store.bundles.upsert(b) },
      request: { schema: feedEventSchemas.request, apply: (r) => store.requests.upsert(r) },
      trade: { schema: feedEventSchemas.trade, apply: (t) => store.trades.upsert(t) },
      activation: { schema: feedEventSchemas.activation, apply: (s) => store.steps.upsert({ ...s, nodeId }) },
      settlement: { schema: feedEventSchemas.settlement, apply: (s) => store.settlements.upsert({ ...s, nodeId }) },
      // Counted on the node and in its health; nothing to keep here.
      rejected: { schema: feedEventSchemas.rejected, apply: () => {} },
    },
  });
};
