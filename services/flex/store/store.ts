/**
 * Where a node keeps what must survive a restart, behind one interface. The node answers
 * from memory and writes behind in batches (`write`), coalesced per key; it awaits a write
 * only where an acknowledgement depends on it (an LFC signal's 202).
 *
 * - memory: a Map per collection (tests; survives a node restart inside one process),
 * - file: an append-only journal per node in the data directory (the embedded default),
 * - redis: one hash per collection under a key prefix (REDIS_URL).
 */
export const COLLECTIONS = ["meta", "devices", "offers", "requests", "bundles", "trades", "signals", "steps", "settlements"] as const;
export type Collection = (typeof COLLECTIONS)[number];

/** An upsert (`value`) or a deletion (`value: null`) of one entry. */
export type StoreWrite = { collection: Collection; key: string; value: unknown };

export type StoredState = Record<Collection, Map<string, unknown>>;

export type FlexStore = {
  kind: "memory" | "file" | "redis";
  load: () => Promise<StoredState>;
  write: (batch: StoreWrite[]) => Promise<void>;
  close: () => Promise<void>;
};

export const emptyState = (): StoredState => Object.fromEntries(COLLECTIONS.map((c) => [c, new Map()])) as StoredState;

export const applyWrites = (state: StoredState, batch: StoreWrite[]) => {
  for (const w of batch) {
    if (w.value === null) state[w.collection].delete(w.key);
    else state[w.collection].set(w.key, w.value);
  }
};

/** Kept in memory only; hand the same instance to a restarted node to test restoring. */
export const createMemoryStore = (): FlexStore => {
  const state = emptyState();
  return {
    kind: "memory",
    load: async () => {
      const copy = emptyState();
      for (const c of COLLECTIONS) for (const [k, v] of state[c]) copy[c].set(k, structuredClone(v));
      return copy;
    },
    write: async (batch) => applyWrites(state, structuredClone(batch)),
    close: async () => {},
  };
};
