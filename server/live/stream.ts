import "server-only";
import { tracked, type TrackedEnvelope } from "@trpc/server";
import type { Feed, FeedChange } from "../../lib/feed";

export type LiveMessage<T> =
  | { kind: "snapshot"; items: T[] }
  | { kind: "changes"; upserts: T[]; removed: string[] };

export type StreamOptions<T> = {
  lastEventId?: string | null;
  signal?: AbortSignal;
  /** Coalescing window: changes inside it are merged per entity (last write wins). */
  batchMs?: number;
  /** Drops items this subscriber may not see (e.g. another participant's). */
  filter?: (item: T) => boolean;
};

/**
 * Streams a feed to one subscriber: listen first, then backfill since `lastEventId` (or
 * send a snapshot), then forward live changes coalesced per entity inside a batch window,
 * so a browser gets at most one message per window however fast the upstream changes.
 * The window is leading-edge: a change after a quiet spell goes out at once, and only what
 * follows it within `batchMs` waits (merged per entity) for the window to close. Each
 * message is tracked with the id of the last change it includes.
 */
export async function* streamFeed<T>(
  feed: Feed<T>,
  { lastEventId, signal, batchMs = 250, filter }: StreamOptions<T> = {},
): AsyncGenerator<TrackedEnvelope<LiveMessage<T>>> {
  let pending = new Map<string, FeedChange<T>>();
  let wake: (() => void) | null = null;
  const unlisten = feed.listen((change) => {
    pending.delete(change.key);
    pending.set(change.key, change);
    wake?.();
  });
  const aborted = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener("abort", () => resolve(), { once: true });
  });

  try {
    // The listener is installed, so nothing published from here on can be missed;
    // anything already in `pending` that the backfill also covers is de-duplicated by seq.
    let delivered: number;
    const replay = feed.since(lastEventId);
    if (replay) {
      delivered = replay.at(-1)?.seq ?? Number(lastEventId!.split(".")[1]);
      if (replay.length > 0) yield tracked(feed.eventId(delivered), toChanges(coalesce(replay), filter));
    } else {
      const headAtSnapshot = feed.head;
      const items = await feed.snapshot();
      delivered = headAtSnapshot;
      yield tracked(feed.eventId(delivered), { kind: "snapshot", items: filter ? items.filter(filter) : items });
    }

    // When the last message went out; the first change after a quiet window is not held back.
    let sentAt = Number.NEGATIVE_INFINITY;
    while (!signal?.aborted) {
      if (pending.size === 0) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = null;
        if (signal?.aborted) break;
      }
      const wait = sentAt + batchMs - Date.now();
      if (batchMs > 0 && wait > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise((r) => (timer = setTimeout(r, wait))), aborted]);
        clearTimeout(timer);
      }
      const batch = [...pending.values()].filter((c) => c.seq > delivered);
      pending = new Map();
      if (batch.length === 0) continue;
      delivered = Math.max(...batch.map((c) => c.seq));
      const message = toChanges(batch, filter);
      if (message.upserts.length === 0 && message.removed.length === 0) continue;
      sentAt = Date.now();
      yield tracked(feed.eventId(delivered), message);
    }
  } finally {
    unlisten();
  }
}

const coalesce = <T>(changes: FeedChange<T>[]) => [...new Map(changes.map((c) => [c.key, c])).values()];

const toChanges = <T>(changes: FeedChange<T>[], filter?: (item: T) => boolean): LiveMessage<T> & { kind: "changes" } => {
  const upserts: T[] = [];
  const removed: string[] = [];
  for (const c of changes) {
    if (c.data === null) removed.push(c.key);
    else if (!filter || filter(c.data)) upserts.push(c.data);
  }
  return { kind: "changes", upserts, removed };
};
