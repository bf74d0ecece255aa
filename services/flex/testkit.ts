import { Redis } from "ioredis";
import pino from "pino";
import type { NodeRole } from "../../contracts/flex/entities";
import { DEVICE_USERNAME_PREFIX } from "../../contracts/flex/mqtt";
import { nodeIdentity, startDeviceBroker, type DeviceBroker } from "./broker";
import { startFlexNode, type FlexNode, type FlexNodeOptions } from "./node";
import { generateNodeKeys, importPublicKey, type NodeKeys } from "./signing";
import { createRedisStore } from "./store/redis-store";
import { createMemoryStore, type FlexStore } from "./store/store";

/**
 * Test harness: a closed device broker (the same authenticate/authorize hooks the site
 * uses) and one or more flex nodes linked as peers, each with a trader and an FSP token.
 * Real sockets throughout; ports are picked free.
 */
export { eventually } from "../csms/testkit";

import { freePort } from "../../lib/testing/net";

export { freePort };

export const TEST_TIMING = { periodMs: 3000, bundleIntervalMs: 100, stepMs: 500, ackTimeoutMs: 400, flushMs: 20 } as const;

export type HarnessNodeSpec = { nodeId: string; role: NodeRole; gridNodes: string[]; trader: string; store?: FlexStore };
export type HarnessNode = { spec: HarnessNodeSpec; node: FlexNode; keys: NodeKeys; port: number; store: FlexStore; traderToken: string; fspToken: string; fspId: string };

export type HarnessOptions = {
  nodes: HarnessNodeSpec[];
  timing?: Partial<FlexNodeOptions>;
  /** An external broker (its own users and ACL); default: a closed aedes broker here. */
  brokerUrl?: string;
  brokerCredentials?: (nodeId: string) => { username: string; password: string };
  /** Redis for every node's store and for the links between them. */
  redis?: { url: string; prefix: string };
};

export const startHarness = async ({ nodes: specs, timing = {}, brokerUrl, brokerCredentials, redis }: HarnessOptions) => {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const consoleToken = "console-token-0123456789";
  const connections: Redis[] = [];
  const redisFor = (nodeId: string) => {
    if (!redis) return {};
    const pub = new Redis(redis.url);
    const sub = pub.duplicate();
    connections.push(pub, sub);
    return { store: createRedisStore({ redis: pub, prefix: redis.prefix, nodeId }), redisPeers: { pub, sub, prefix: redis.prefix } };
  };
  const prepared = await Promise.all(
    specs.map(async (spec) => {
      const r = redisFor(spec.nodeId);
      return { spec, keys: generateNodeKeys(), port: await freePort(), store: spec.store ?? r.store ?? createMemoryStore(), redisPeers: r.redisPeers };
    }),
  );
  const nodes = new Map<string, HarnessNode>();
  const nodeUsers = specs.map((s) => ({ username: `flex-node-${s.nodeId}`, password: `pw-${s.nodeId}`, identity: nodeIdentity(`flex-node-${s.nodeId}`) }));
  const broker: DeviceBroker | undefined = brokerUrl
    ? undefined
    : await startDeviceBroker({
        port: 0,
        authenticators: [{ prefix: DEVICE_USERNAME_PREFIX, authenticate: (u, p) => [...nodes.values()].map((n) => n.node.authenticateDevice(u, p)).find((i) => i) ?? null }],
        users: [...nodeUsers, { username: "intruder", password: "intruder", identity: { username: "intruder", publish: ["flex/v1/#"], subscribe: ["flex/v1/#"] } }],
        log,
      });
  const mqttUrl = brokerUrl ?? broker!.url;

  const start = async (p: (typeof prepared)[number]) => {
    const traderToken = `trader-${p.spec.nodeId}-0123456789`;
    const fspId = `fsp-${p.spec.nodeId}`;
    const fspToken = `fsp-${p.spec.nodeId}-0123456789`;
    const node = await startFlexNode({
      nodeId: p.spec.nodeId,
      role: p.spec.role,
      port: p.port,
      mqttUrl,
      mqttUsername: brokerCredentials?.(p.spec.nodeId).username ?? (brokerUrl ? undefined : `flex-node-${p.spec.nodeId}`),
      mqttPassword: brokerCredentials?.(p.spec.nodeId).password ?? (brokerUrl ? undefined : `pw-${p.spec.nodeId}`),
      keys: p.keys,
      participants: [
        { id: p.spec.trader, role: p.spec.role, token: traderToken },
        { id: fspId, role: "FSP", token: fspToken },
      ],
      consoleToken,
      gridNodes: p.spec.gridNodes,
      peers: prepared.filter((o) => o !== p).map((o) => ({ nodeId: o.spec.nodeId, url: `http://127.0.0.1:${o.port}`, publicKey: importPublicKey(o.keys.publicKey) })),
      store: p.store,
      redisPeers: p.redisPeers,
      ...TEST_TIMING,
      ...timing,
      log,
    });
    const h: HarnessNode = { spec: p.spec, node, keys: p.keys, port: p.port, store: p.store, traderToken, fspToken, fspId };
    nodes.set(p.spec.nodeId, h);
    return h;
  };
  for (const p of prepared) await start(p);

  return {
    broker,
    mqttUrl,
    consoleToken,
    node: (id: string) => nodes.get(id)!,
    /** Stops one node and starts it again on the same port and store. */
    restart: async (id: string) => {
      await nodes.get(id)!.node.close();
      return start(prepared.find((p) => p.spec.nodeId === id)!);
    },
    close: async () => {
      for (const n of nodes.values()) await n.node.close();
      await broker?.close();
      if (redis && connections[0]) {
        const keys = await connections[0].keys(`${redis.prefix}:*`);
        if (keys.length > 0) await connections[0].del(...keys);
      }
      for (const c of connections) c.disconnect();
    },
  };
};

/** A JSON call to a node's API; returns status and parsed body. */
export const call = async (node: { url: string }, token: string | undefined, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { [k: string]: unknown } };
};

/** The window index `ahead` windows from now, as [periodFrom, periodTo). */
export const windowAhead = (periodMs: number, ahead: number, span = 1) => {
  const start = (Math.floor(Date.now() / periodMs) + ahead) * periodMs;
  return { periodFrom: start, periodTo: start + span * periodMs };
};
