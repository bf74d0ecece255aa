import { ensureFlexCredentials, storedPublicKey } from "./credentials";
import { flexNodeEnvSchema } from "./env";
import { launchFlexNode } from "./launch";
import { runService } from "../lib/run-service";

/**
 * A standalone flex node (`npm run flex:node`). Without FLEX_MQTT_URL it runs its own
 * closed broker for its devices; without REDIS_URL it keeps its state in a journal under
 * SWITCHYARD_DATA_DIR/flex. Keys and generated tokens live in credentials.json.
 */
runService({
  name: "flex-node",
  envSchema: flexNodeEnvSchema,
  start: async ({ env, log }) => {
    const defaults = env.FLEX_ROLE === "TSO" ? [{ id: "tso-1", role: "TSO" as const }] : [{ id: "dso-1", role: "DSO" as const }];
    const stored = ensureFlexCredentials({ dataDir: env.SWITCHYARD_DATA_DIR, nodeId: env.FLEX_NODE_ID, participants: env.FLEX_PARTICIPANTS ? [] : [...defaults, { id: "fsp-1", role: "FSP" }] });
    const peers = Object.entries(env.FLEX_PEERS).map(([nodeId, url]) => {
      const publicKey = env.FLEX_PEER_KEYS[nodeId] ?? storedPublicKey(env.SWITCHYARD_DATA_DIR, nodeId);
      if (!publicKey) throw new Error(`Invalid configuration:\n  FLEX_PEER_KEYS: no public key for peer ${nodeId} (give ${nodeId}=<base64 SPKI>, its GET /api/v1/node publicKey)`);
      return { nodeId, url, publicKey };
    });
    const launched = await launchFlexNode({
      nodeId: env.FLEX_NODE_ID,
      role: env.FLEX_ROLE,
      marketId: env.FLEX_MARKET_ID,
      host: env.FLEX_HOST,
      port: env.FLEX_PORT,
      gridNodes: env.FLEX_GRID_NODES,
      topicRoot: env.FLEX_TOPIC_ROOT,
      mqtt: { url: env.FLEX_MQTT_URL, username: env.FLEX_MQTT_USERNAME, password: env.FLEX_MQTT_PASSWORD, embeddedPort: env.FLEX_MQTT_PORT },
      dataDir: env.SWITCHYARD_DATA_DIR,
      keys: stored.keys,
      participants: env.FLEX_PARTICIPANTS ?? stored.participants,
      consoleToken: env.FLEX_CONSOLE_TOKEN ?? stored.consoleToken,
      peers,
      redisUrl: env.REDIS_URL,
      redisPrefix: env.FLEX_REDIS_PREFIX,
      store: env.FLEX_STORE,
      peerTransport: env.FLEX_PEER_TRANSPORT,
      timing: {
        periodMs: env.FLEX_PERIOD_MS,
        bundleIntervalMs: env.FLEX_BUNDLE_INTERVAL_MS,
        stepMs: env.FLEX_STEP_MS,
        ackTimeoutMs: env.FLEX_ACK_TIMEOUT_MS,
        sendChunk: env.FLEX_SEND_CHUNK,
        signBatch: env.FLEX_SIGN_BATCH,
        activationQos: env.FLEX_ACTIVATION_QOS,
        offerRate: { callsPerSecond: env.FLEX_OFFER_RATE, burst: env.FLEX_OFFER_BURST },
      },
      log,
    });
    return {
      ready: { url: launched.node.url, nodeId: env.FLEX_NODE_ID, role: env.FLEX_ROLE, mqttUrl: launched.mqttUrl, store: launched.store, publicKey: launched.node.publicKey },
      close: launched.close,
    };
  },
});
