import "server-only";
import { Feed } from "../../../lib/feed";

export type EntityStoreOptions<T> = {
  /** The feed's name (metrics label, log field): `<domain>.<entities>`. */
  name: string;
  keyOf: (item: T) => string;
  /** Changes the feed keeps for browsers resuming with Last-Event-ID. */
  bufferSize?: number;
  /** Whether two versions of an entity are the same (default: same JSON). */
  same?: (a: T, b: T) => boolean;
};

export type EntityStore<T> = {
  /** Every change, for live subscriptions (server/trpc `liveProcedure`). */
  readonly feed: Feed<T>;
  readonly size: number;
  get: (key: string) => T | undefined;
  has: (key: string) => boolean;
  values: () => IterableIterator<T>;
  /** Adds or replaces one entity; publishes only if it changed. */
  upsert: (item: T) => boolean;
  /** Publishes a removal if the entity was there. */
  remove: (key: string) => boolean;
  /**
   * Makes the store hold exactly `items`, publishing only the differences (so a resync
   * after an upstream restart costs browsers what changed, not the whole fleet).
   * Returns how many entities changed.
   */
  applySnapshot: (items: Iterable<T>) => number;
};

const sameJson = <T>(a: T, b: T) => JSON.stringify(a) === JSON.stringify(b);

/** The materialized view of one kind of upstream entity: a Map for reads, a Feed for watchers. */
export const createEntityStore = <T>({ name, keyOf, bufferSize, same = sameJson }: EntityStoreOptions<T>): EntityStore<T> => {
  const items = new Map<string, T>();
  const feed = new Feed<T>({ name, keyOf, snapshot: () => [...items.values()], bufferSize });

  const upsert = (item: T) => {
    const key = keyOf(item);
    const previous = items.get(key);
    if (previous !== undefined && same(previous, item)) return false;
    items.set(key, item);
    feed.publish(key, item);
    return true;
  };
  const remove = (key: string) => {
    if (!items.delete(key)) return false;
    feed.publish(key, null);
    return true;
  };

  return {
    feed,
    get size() {
      return items.size;
    },
    get: (key) => items.get(key),
    has: (key) => items.has(key),
    values: () => items.values(),
    upsert,
    remove,
    applySnapshot: (next) => {
      const seen = new Set<string>();
      let changed = 0;
      for (const item of next) {
        seen.add(keyOf(item));
        if (upsert(item)) changed++;
      }
      for (const key of [...items.keys()]) if (!seen.has(key) && remove(key)) changed++;
      return changed;
    },
  };
};
