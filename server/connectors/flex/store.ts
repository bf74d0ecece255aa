import "server-only";
import type { Depth, NodeHealth } from "../../../contracts/flex/api";
import type { ActivationStep, Bundle, FlexRequest, Settlement, Trade } from "../../../contracts/flex/entities";
import { env } from "../../env";
import { createEntityStore, type EntityStore } from "../kit/store";

/** Entities that do not name their node on the wire get it here (every node has its own feed). */
export type OnNode<T> = T & { nodeId: string };
export type FlexDepth = OnNode<Depth>;
export type FlexStep = OnNode<ActivationStep>;
export type FlexSettlement = OnNode<Settlement>;
/** A node's health as its feed last reported it (every 5 s), with the market timing from GET /node. */
export type FlexNodeView = NodeHealth & { periodMs: number; bundleIntervalMs: number; stepMs: number; gridNodes: string[] };

/**
 * The console's materialized view of every flex node it follows: each node's feed fills
 * the entities of that node (keys start with the node id, so one node's resync never
 * touches another's). Routers and browser subscriptions read it. One per process, on
 * globalThis, so Next's separate server entries and hot reloads share it.
 */
export type FlexStore = {
  nodes: EntityStore<FlexNodeView>;
  requests: EntityStore<FlexRequest>;
  depth: EntityStore<FlexDepth>;
  bundles: EntityStore<Bundle>;
  trades: EntityStore<Trade>;
  steps: EntityStore<FlexStep>;
  settlements: EntityStore<FlexSettlement>;
};

export const requestKey = (r: Pick<FlexRequest, "nodeId" | "id">) => `${r.nodeId}/${r.id}`;
export const depthKey = (d: Pick<FlexDepth, "nodeId" | "gridNodeId" | "direction">) => `${d.nodeId}/${d.gridNodeId}/${d.direction}`;
export const stepKey = (s: Pick<FlexStep, "nodeId" | "tradeId" | "stepTs">) => `${s.nodeId}/${s.tradeId}/${s.stepTs}`;
const byId = (x: { nodeId: string; id: string }) => `${x.nodeId}/${x.id}`;

export const createFlexStore = (bufferSize = env().LIVE_BUFFER_SIZE): FlexStore => ({
  nodes: createEntityStore<FlexNodeView>({ name: "flex.nodes", keyOf: (n) => n.nodeId, bufferSize }),
  requests: createEntityStore<FlexRequest>({ name: "flex.requests", keyOf: requestKey, bufferSize }),
  depth: createEntityStore<FlexDepth>({ name: "flex.depth", keyOf: depthKey, bufferSize }),
  bundles: createEntityStore<Bundle>({ name: "flex.bundles", keyOf: byId, bufferSize }),
  trades: createEntityStore<Trade>({ name: "flex.trades", keyOf: byId, bufferSize }),
  steps: createEntityStore<FlexStep>({ name: "flex.steps", keyOf: stepKey, bufferSize }),
  settlements: createEntityStore<FlexSettlement>({ name: "flex.settlements", keyOf: byId, bufferSize }),
});

/**
 * Makes `store` hold exactly `items` for `nodeId`, leaving other nodes' entities alone and
 * publishing only the differences (a node's resync costs browsers what changed).
 */
export const replaceNodeItems = <T extends { nodeId: string }>(store: EntityStore<T>, nodeId: string, items: T[]) => {
  let changed = 0;
  const keep = new Set<string>();
  for (const item of items) {
    if (store.upsert(item)) changed++;
    keep.add(store.feed.keyOf(item));
  }
  for (const item of [...store.values()]) {
    const key = store.feed.keyOf(item);
    if (item.nodeId === nodeId && !keep.has(key) && store.remove(key)) changed++;
  }
  return changed;
};

/** Drops what the pages no longer show: steps older than `stepAgeMs`, bundles of windows long over. */
export const pruneFlexStore = (store: FlexStore, { now = Date.now(), stepAgeMs = 30 * 60_000, bundleAgeMs = 60 * 60_000 } = {}) => {
  for (const s of [...store.steps.values()]) if (s.stepTs < now - stepAgeMs) store.steps.remove(stepKey(s));
  for (const b of [...store.bundles.values()]) if (b.windowEnd < now - bundleAgeMs) store.bundles.remove(byId(b));
};

const g = globalThis as unknown as { __switchyardFlex?: FlexStore };
export const flexStore = (): FlexStore => (g.__switchyardFlex ??= createFlexStore());
