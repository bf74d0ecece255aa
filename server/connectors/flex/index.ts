import "server-only";
import { env, type Env } from "../../env";
import type { UpstreamHealth } from "../health";
import type { LiveView, LiveViewTiming } from "../kit/live-view";
import type { Connector } from "../kit/registry";
import { createFlexClient, type FlexClient } from "./client";
import { startFlexLiveView } from "./live-view";
import { flexStore, type FlexStore } from "./store";

export { createFlexClient, type FlexClient } from "./client";
export { flexLinkId, startFlexLiveView } from "./live-view";
export { createFlexStore, flexStore, type FlexStore } from "./store";

/** One node the console follows: its read-everything client and the live view filling the store. */
export type FlexNodeLink = { nodeId: string; client: FlexClient; view: LiveView };

/** Who the console acts for on a node: a trader participant and the client carrying their token. */
export type FlexTrader = { participantId: string; nodeId: string; client: FlexClient };

export type FlexConnector = Connector & {
  domain: "flex";
  store: FlexStore;
  nodes: Map<string, FlexNodeLink>;
  /** Trader participants the console holds a token for, by participant id. */
  traders: Map<string, FlexTrader>;
  /** The EV-charger bridge's FSP client per node (FLEX_BRIDGE_TOKENS). */
  bridgeClients: Map<string, FlexClient>;
  /** The broker the nodes' devices use (the EV-charger bridge logs in there as its devices). */
  deviceMqttUrl: string;
  /** Resolves once every node's first snapshot is in. */
  ready: Promise<void>;
};

declare module "../kit/registry" {
  interface ConnectorsByDomain {
    flex: FlexConnector;
  }
}

export type FlexConnectorOptions = LiveViewTiming & {
  health: UpstreamHealth;
  /** nodeId → base URL. */
  nodeUrls: Record<string, string>;
  consoleToken: string | undefined;
  /** participantId → nodeId and participantId → token. */
  traderNodes?: Record<string, string>;
  traderTokens?: Record<string, string>;
  bridgeTokens?: Record<string, string>;
  timeoutMs?: number;
  store?: FlexStore;
  /** Default: the console's broker (MQTT_URL), which the site's flex nodes share. */
  deviceMqttUrl?: string;
};

/**
 * The flex connector: one live view per node (each its own link on the health bar), one
 * client per trader participant with that participant's token — so the node enforces
 * "own participant only" as well as the console — and the bridge's FSP clients.
 */
export const createFlexConnector = ({ health, nodeUrls, consoleToken, traderNodes = {}, traderTokens = {}, bridgeTokens = {}, timeoutMs, store = flexStore(), deviceMqttUrl = env().mqttUrl, ...timing }: FlexConnectorOptions): FlexConnector => {
  const nodes = new Map<string, FlexNodeLink>();
  for (const [nodeId, baseUrl] of Object.entries(nodeUrls)) {
    const client = createFlexClient({ nodeId, baseUrl, token: consoleToken, timeoutMs });
    nodes.set(nodeId, { nodeId, client, view: startFlexLiveView({ client, health, store, ...timing }) });
  }
  const traders = new Map<string, FlexTrader>();
  for (const [participantId, nodeId] of Object.entries(traderNodes)) {
    const baseUrl = nodeUrls[nodeId];
    const token = traderTokens[participantId];
    if (!baseUrl || !token) continue;
    traders.set(participantId, { participantId, nodeId, client: createFlexClient({ nodeId, baseUrl, token, timeoutMs, credentialsHint: "FLEX_TRADER_TOKENS" }) });
  }
  const bridgeClients = new Map<string, FlexClient>();
  for (const [nodeId, token] of Object.entries(bridgeTokens)) {
    const baseUrl = nodeUrls[nodeId];
    if (baseUrl) bridgeClients.set(nodeId, createFlexClient({ nodeId, baseUrl, token, timeoutMs, credentialsHint: "FLEX_BRIDGE_TOKENS" }));
  }
  return {
    domain: "flex",
    store,
    nodes,
    traders,
    bridgeClients,
    deviceMqttUrl,
    ready: Promise.all([...nodes.values()].map((n) => n.view.ready)).then(() => undefined),
    close: async () => {
      await Promise.all([...nodes.values()].map((n) => n.view.close()));
    },
  };
};

/** The flex connector from the process settings, or null when FLEX_NODE_URLS is unset or `off`. */
export const connectFlex = (health: UpstreamHealth, e: Env = env()): FlexConnector | null => {
  if (!e.FLEX_NODE_URLS || e.FLEX_NODE_URLS === "off" || Object.keys(e.FLEX_NODE_URLS).length === 0) return null;
  return createFlexConnector({
    health,
    nodeUrls: e.FLEX_NODE_URLS,
    consoleToken: e.flexConsoleToken,
    traderNodes: e.FLEX_TRADER_NODES,
    traderTokens: e.FLEX_TRADER_TOKENS,
    bridgeTokens: e.FLEX_BRIDGE_TOKENS,
    timeoutMs: e.FLEX_COMMAND_TIMEOUT_MS,
  });
};
