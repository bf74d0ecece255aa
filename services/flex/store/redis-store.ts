import type { Redis } from "ioredis";
import { COLLECTIONS, emptyState, type FlexStore } from "./store";

/**
 * One Redis hash per collection and node (`<prefix>:<nodeId>:<collection>`), written with
 * pipelined HSET/HDEL per batch and read back with HSCAN on start, so a node killed with
 * -9 comes back with its devices, offers, requests, bundles, trades and signals.
 */
export const createRedisStore = ({ redis, prefix, nodeId }: { redis: Redis; prefix: string; nodeId: string }): FlexStore => {
  const key = (collection: string) => `${prefix}:${nodeId}:${collection}`;
  return {
    kind: "redis",
    load: async () => {
      const state = emptyState();
      for (const c of COLLECTIONS) {
        let cursor = "0";
        do {
          const [next, flat] = await redis.hscan(key(c), cursor, "COUNT", 5000);
          for (let i = 0; i < flat.length; i += 2) state[c].set(flat[i], JSON.parse(flat[i + 1]));
          cursor = next;
        } while (cursor !== "0");
      }
      return state;
    },
    write: async (batch) => {
      if (batch.length === 0) return;
      const pipeline = redis.pipeline();
      for (const w of batch) {
        if (w.value === null) pipeline.hdel(key(w.collection), w.key);
        else pipeline.hset(key(w.collection), w.key, JSON.stringify(w.value));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    },
    close: async () => {},
  };
};
