import { randomBytes } from "node:crypto";

/**
 * A versioned change feed: every published change gets a sequence number and sits in a
 * ring buffer, so a reconnecting browser can resume from its last event id. Event ids are
 * `<epoch>.<seq>`; the epoch changes on every process start, so ids from an earlier
 * process (or ids too old for the buffer) lead to a fresh snapshot instead of a silent gap.
 */
export type FeedChange<T> = { seq: number; key: string; data: T | null };

export type FeedOptions<T> = {
  name: string;
  keyOf: (item: T) => string;
  /** The current state, for new subscribers and for gaps the buffer cannot fill. */
  snapshot: () => Promise<T[]> | T[];
  bufferSize?: number;
};

export class Feed<T> {
  readonly name: string;
  readonly epoch = randomBytes(4).toString("hex");
  private seq = 0;
  private readonly buffer: FeedChange<T>[] = [];
  private readonly bufferSize: number;
  private readonly listeners = new Set<(change: FeedChange<T>) => void>();
  readonly keyOf: (item: T) => string;
  readonly snapshot: () => Promise<T[]> | T[];

  constructor({ name, keyOf, snapshot, bufferSize = 2048 }: FeedOptions<T>) {
    this.name = name;
    this.keyOf = keyOf;
    this.snapshot = snapshot;
    this.bufferSize = bufferSize;
  }

  get head() {
    return this.seq;
  }

  get subscriberCount() {
    return this.listeners.size;
  }

  eventId(seq: number) {
    return `${this.epoch}.${seq}`;
  }

  /** Publishes an upsert (`data`) or a removal (`data: null`) of one entity. */
  publish(key: string, data: T | null) {
    const change: FeedChange<T> = { seq: ++this.seq, key, data };
    this.buffer.push(change);
    if (this.buffer.length > this.bufferSize) this.buffer.shift();
    for (const listener of this.listeners) listener(change);
    return change.seq;
  }

  upsert(item: T) {
    return this.publish(this.keyOf(item), item);
  }

  listen(listener: (change: FeedChange<T>) => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Changes after `lastEventId`, or `null` when they cannot be replayed exactly
   * (another epoch, a malformed id, or older than the buffer).
   */
  since(lastEventId: string | null | undefined): FeedChange<T>[] | null {
    if (!lastEventId) return null;
    const [epoch, raw] = lastEventId.split(".");
    const last = Number(raw);
    if (epoch !== this.epoch || !Number.isInteger(last) || last < 0 || last > this.seq) return null;
    if (last === this.seq) return [];
    const oldest = this.buffer[0]?.seq ?? this.seq + 1;
    if (last + 1 < oldest) return null;
    return this.buffer.filter((c) => c.seq > last);
  }
}
