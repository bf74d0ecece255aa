import path from "node:path";
import { Redis } from "ioredis";
import type pino from "pino";
import type { NodeRole } from "../../contracts/flex/entities";
import type { BrokerAuthenticator } from "../site/module";
import { nodeIdentity, startDeviceBroker } from "./broker";
import { DEVICE_USERNAME_PREFIX } from "../../contracts/flex/mqtt";
import { startFlexNode, type FlexNodeOptions, type ParticipantConfig } from "./node";
import { importPublicKey, type NodeKeys } from "./signing";
import { createFileStore } from "./store/file-store";
import { createRedisStore } from "./store/redis-store";
import { createMemoryStore, type FlexStore } from "./store/store";
import { generateSecret } from "../../lib/credentials";

/**
 * Puts a node together from settings: its store (memory, journal file, Redis), its peer
 * transport (HTTP links or Redis), and — when no broker URL is given — its own closed
 * broker for its devices. main.ts and the site module both start nodes through here.
 */
export type LaunchOptions = {
  nodeId: string;
  role: NodeRole;
  marketId?: string;
  host: string;
  port: number;
  gridNodes: string[];
  topicRoot?: string;
  /** `url` unset → a broker of the node's own on `embeddedPort`. */
  mqtt: { url?: string; username?: string; password?: string; embeddedPort?: number };
  dataDir: string;
  keys: NodeKeys;
  participants: ParticipantConfig[];
  consoleToken?: string;
  peers: { nodeId: string; url?: string; publicKey: string }[];
  redisUrl?: string;
  redisPrefix?: string;
  store?: "memory" | "file" | "redis";
  peerTransport?: "http" | "redis";
  timing?: Pick<FlexNodeOptions, "periodMs" | "bundleIntervalMs" | "stepMs" | "ackTimeoutMs" | "sendChunk" | "signBatch" | "activationQos" | "offerRate">;
  log: pino.Logger;
};

export const launchFlexNode = async (opts: LaunchOptions) => {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => opts.log.warn({ err: (error as Error).message }, "flex shutdown step failed"));
  };
  try {
    const redisPrefix = opts.redisPrefix ?? "switchyard:flex";
    const storeKind = opts.store ?? (opts.redisUrl ? "redis" : "file");
    const needsRedis = storeKind === "redis" || opts.peerTransport === "redis";
    if (needsRedis && !opts.redisUrl) throw new Error("REDIS_URL is required for the redis store or redis peer transport");
    const redis = needsRedis ? new Redis(opts.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 3 }) : undefined;
    if (redis) {
      await redis.connect();
      cleanups.push(async () => void redis.disconnect());
    }
    const store: FlexStore =
      storeKind === "redis" ? createRedisStore({ redis: redis!, prefix: redisPrefix, nodeId: opts.nodeId }) : storeKind === "file" ? createFileStore({ dir: path.join(opts.dataDir, "flex"), nodeId: opts.nodeId }) : createMemoryStore();
    const peerTransport = opts.peerTransport ?? (opts.redisUrl ? "redis" : "http");
    let redisPeers: FlexNodeOptions["redisPeers"];
    if (peerTransport === "redis" && opts.peers.length > 0) {
      const sub = redis!.duplicate();
      cleanups.push(async () => void sub.disconnect());
      redisPeers = { pub: redis!, sub, prefix: redisPrefix };
    }

    let mqttUrl = opts.mqtt.url;
    let username = opts.mqtt.username;
    let password = opts.mqtt.password;
    // The node's devices are authenticated by the node, so the authenticator is bound late.
    let authenticate: BrokerAuthenticator = () => null;
    if (!mqttUrl) {
      username = `flex-node-${opts.nodeId}`;
      password = generateSecret();
      const broker = await startDeviceBroker({
        host: opts.host,
        port: opts.mqtt.embeddedPort ?? 1885,
        authenticators: [{ prefix: DEVICE_USERNAME_PREFIX, authenticate: (u, p) => authenticate(u, p) }],
        users: [{ username, password, identity: nodeIdentity(username, opts.topicRoot) }],
        log: opts.log.child({ component: "flex-broker" }),
      });
      cleanups.push(broker.close);
      mqttUrl = broker.url;
    }

    const node = await startFlexNode({
      nodeId: opts.nodeId,
      role: opts.role,
      marketId: opts.marketId,
      host: opts.host,
      port: opts.port,
      mqttUrl,
      mqttUsername: username,
      mqttPassword: password,
      topicRoot: opts.topicRoot,
      keys: opts.keys,
      participants: opts.participants,
      consoleToken: opts.consoleToken,
      gridNodes: opts.gridNodes,
      peers: opts.peers.map((p) => ({ nodeId: p.nodeId, url: p.url, publicKey: importPublicKey(p.publicKey) })),
      redisPeers,
      store,
      ...opts.timing,
      log: opts.log,
    });
    cleanups.push(node.close);
    authenticate = node.authenticateDevice;
    return { node, mqttUrl, store: storeKind, peerTransport, close };
  } catch (error) {
    await close();
    throw error;
  }
};
