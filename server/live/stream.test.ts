import type { TrackedEnvelope } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { Feed } from "../../lib/feed";
import { streamFeed, type LiveMessage } from "./stream";

type Item = { id: string; v: number };
const makeFeed = (items: Item[] = [], bufferSize = 8) => {
  const state = new Map(items.map((i) => [i.id, i]));
  const feed = new Feed<Item>({ name: "test", keyOf: (i) => i.id, snapshot: () => [...state.values()], bufferSize });
  const set = (item: Item) => {
    state.set(item.id, item);
    feed.upsert(item);
  };
  return { feed, set };
};

/** Reads `n` messages from a stream, then stops it. */
const take = async (stream: AsyncGenerator<TrackedEnvelope<LiveMessage<Item>>>, n: number) => {
  const out: { id: string; data: LiveMessage<Item> }[] = [];
  for await (const [id, data] of stream) {
    out.push({ id, data });
    if (out.length === n) break;
  }
  return out;
};

describe("live feeds", () => {
  it("starts a new subscriber with a snapshot, then streams changes", async () => {
    const { feed, set } = makeFeed([{ id: "a", v: 1 }]);
    const controller = new AbortController();
    const stream = streamFeed(feed, { signal: controller.signal, batchMs: 5 });
    const pending = take(stream, 2);
    await new Promise((r) => setTimeout(r, 10));
    set({ id: "b", v: 1 });
    const [first, second] = await pending;
    expect(first.data).toEqual({ kind: "snapshot", items: [{ id: "a", v: 1 }] });
    expect(second.data).toEqual({ kind: "changes", upserts: [{ id: "b", v: 1 }], removed: [] });
    expect(second.id).toBe(feed.eventId(1));
  });

  it("resumes from lastEventId with exactly the missed changes", async () => {
    const { feed, set } = makeFeed();
    set({ id: "a", v: 1 });
    const resumeFrom = feed.eventId(feed.head);
    set({ id: "b", v: 1 });
    set({ id: "a", v: 2 });
    const [m] = await take(streamFeed(feed, { lastEventId: resumeFrom, batchMs: 0 }), 1);
    expect(m.data).toEqual({ kind: "changes", upserts: [{ id: "b", v: 1 }, { id: "a", v: 2 }], removed: [] });
    expect(m.id).toBe(feed.eventId(3));
  });

  it("sends a fresh snapshot when the gap is older than the buffer or from another process", async () => {
    const { feed, set } = makeFeed([], 4);
    set({ id: "x", v: 0 });
    const old = feed.eventId(1);
    for (let i = 0; i < 10; i++) set({ id: `k${i}`, v: i });
    const [gap] = await take(streamFeed(feed, { lastEventId: old, batchMs: 0 }), 1);
    expect(gap.data.kind).toBe("snapshot");
    expect((gap.data as { items: Item[] }).items).toHaveLength(11);
    const [foreign] = await take(streamFeed(feed, { lastEventId: "deadbeef.3", batchMs: 0 }), 1);
    expect(foreign.data.kind).toBe("snapshot");
    const [garbage] = await take(streamFeed(feed, { lastEventId: "not-an-id", batchMs: 0 }), 1);
    expect(garbage.data.kind).toBe("snapshot");
  });

  it("coalesces bursts per entity inside the batch window (last write wins)", async () => {
    const { feed, set } = makeFeed();
    const controller = new AbortController();
    const pending = take(streamFeed(feed, { signal: controller.signal, batchMs: 50 }), 2);
    await new Promise((r) => setTimeout(r, 5));
    for (let v = 0; v < 1000; v++) set({ id: `s${v % 3}`, v });
    const [, batch] = await pending;
    expect(batch.data).toEqual({
      kind: "changes",
      upserts: expect.arrayContaining([{ id: "s0", v: 999 }, { id: "s1", v: 997 }, { id: "s2", v: 998 }]),
      removed: [],
    });
    expect((batch.data as { upserts: Item[] }).upserts).toHaveLength(3);
    expect(batch.id).toBe(feed.eventId(1000));
  });

  it("sends the first change of a window at once, and merges what follows it until the window closes", async () => {
    const { feed, set } = makeFeed();
    const controller = new AbortController();
    // A window far longer than any test: whatever arrives promptly was not held back by it.
    const stream = streamFeed(feed, { signal: controller.signal, batchMs: 600_000 });
    expect((await stream.next()).value?.[1]).toEqual({ kind: "snapshot", items: [] });
    const first = stream.next();
    set({ id: "a", v: 1 });
    expect((await first).value?.[1]).toEqual({ kind: "changes", upserts: [{ id: "a", v: 1 }], removed: [] });

    // Inside the window now: these wait, merged per entity, for its end (here: the client leaving).
    const second = stream.next();
    set({ id: "a", v: 2 });
    set({ id: "b", v: 1 });
    set({ id: "a", v: 3 });
    // Every callback queued so far has run: without the window the merged batch would be out.
    const settled = await Promise.race([second.then(() => "delivered"), new Promise((r) => setImmediate(() => r("held back")))]);
    expect(settled).toBe("held back");
    controller.abort();
    const merged = await second;
    expect(merged.value?.[1]).toEqual({ kind: "changes", upserts: [{ id: "b", v: 1 }, { id: "a", v: 3 }], removed: [] });
    expect(merged.value?.[0]).toBe(feed.eventId(4));
    expect((await stream.next()).done).toBe(true);
  });

  it("applies a per-subscriber filter and reports removals", async () => {
    const { feed, set } = makeFeed([{ id: "mine", v: 1 }, { id: "theirs", v: 1 }]);
    const pending = take(streamFeed(feed, { batchMs: 0, filter: (i) => i.id === "mine" }), 2);
    await new Promise((r) => setTimeout(r, 5));
    set({ id: "theirs", v: 2 });
    feed.publish("mine", null);
    const [snap, change] = await pending;
    expect(snap.data).toEqual({ kind: "snapshot", items: [{ id: "mine", v: 1 }] });
    expect(change.data).toEqual({ kind: "changes", upserts: [], removed: ["mine"] });
  });

  it("stops and unsubscribes when the client goes away", async () => {
    const { feed } = makeFeed();
    const controller = new AbortController();
    const stream = streamFeed(feed, { signal: controller.signal, batchMs: 0 });
    await stream.next();
    expect(feed.subscriberCount).toBe(1);
    const done = stream.next();
    controller.abort();
    expect((await done).done).toBe(true);
    expect(feed.subscriberCount).toBe(0);
  });
});
