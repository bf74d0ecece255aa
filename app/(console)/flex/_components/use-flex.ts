"use client";

import { skipToken, useQuery } from "@tanstack/react-query";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import type { Depth, NodeHealth } from "@/contracts/flex/api";
import type { ActivationStep, Bundle, FlexRequest, Settlement, Trade } from "@/contracts/flex/entities";
import { useLiveFeed } from "../../_components/ui/live-feed";

export type FlexContext = RouterOutputs["flex"]["market"]["context"];
export type FlexNodeInfo = FlexContext["nodes"][number];

// What each feed streams: the contract's entities, each with the node it is on.
type OnNode<T> = T & { nodeId: string };
export type FlexRequestRow = FlexRequest;
export type FlexNodeRow = NodeHealth & { periodMs: number; bundleIntervalMs: number; stepMs: number; gridNodes: string[] };
export type FlexDepthRow = OnNode<Depth>;
export type FlexBundleRow = Bundle;
export type FlexTradeRow = Trade;
export type FlexStepRow = OnNode<ActivationStep>;
export type FlexSettlementRow = OnNode<Settlement>;

// Keys as the server's store builds them (module level: useLiveFeed needs them stable).
const byId = (x: { nodeId: string; id: string }) => `${x.nodeId}/${x.id}`;
const nodeKey = (n: { nodeId: string }) => n.nodeId;
const depthKey = (d: FlexDepthRow) => `${d.nodeId}/${d.gridNodeId}/${d.direction}`;
const stepKey = (s: FlexStepRow) => `${s.nodeId}/${s.tradeId}/${s.stepTs}`;

/** Whom the caller acts for and the nodes' grid nodes and timing. */
export const useFlexContext = () => {
  const trpc = useTRPC();
  return useQuery(trpc.flex.market.context.queryOptions(undefined, { staleTime: 30_000 }));
};

export const useFlexRequests = () => {
  const trpc = useTRPC();
  return useLiveFeed<FlexRequestRow>({ keyOf: byId, subscribe: (onData) => trpc.flex.requests.onChange.subscriptionOptions(undefined, { onData }) });
};
export const useFlexNodes = () => {
  const trpc = useTRPC();
  return useLiveFeed<FlexNodeRow>({ keyOf: nodeKey, subscribe: (onData) => trpc.flex.market.onNodes.subscriptionOptions(undefined, { onData }) });
};
export const useFlexDepth = (nodeId: string | undefined) => {
  const trpc = useTRPC();
  return useLiveFeed<FlexDepthRow>({ keyOf: depthKey, subscribe: (onData) => trpc.flex.market.onDepth.subscriptionOptions(nodeId ? { nodeId } : skipToken, { onData }) });
};
export const useFlexBundles = (nodeId?: string) => {
  const trpc = useTRPC();
  return useLiveFeed<FlexBundleRow>({ keyOf: byId, subscribe: (onData) => trpc.flex.market.onBundles.subscriptionOptions(nodeId ? { nodeId } : undefined, { onData }) });
};
export const useFlexTrades = () => {
  const trpc = useTRPC();
  return useLiveFeed<FlexTradeRow>({ keyOf: byId, subscribe: (onData) => trpc.flex.market.onTrades.subscriptionOptions(undefined, { onData }) });
};
export const useFlexSteps = (tradeId?: string) => {
  const trpc = useTRPC();
  return useLiveFeed<FlexStepRow>({ keyOf: stepKey, subscribe: (onData) => trpc.flex.activations.onSteps.subscriptionOptions(tradeId ? { tradeId } : undefined, { onData }) });
};
export const useFlexSettlements = () => {
  const trpc = useTRPC();
  return useLiveFeed<FlexSettlementRow>({ keyOf: byId, subscribe: (onData) => trpc.flex.settlements.onChange.subscriptionOptions(undefined, { onData }) });
};
