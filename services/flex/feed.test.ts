import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readSse, type SseEvent } from "../../lib/sse";
import { createLiveFeed } from "./feed";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

/** Reads events until `count` arrived, then drops the connection. */
const read = async (url: string, count: number, lastEventId?: string) => {
  const res = await fetch(url, { headers: lastEventId ? { "last-event-id": lastEventId } : {} });
  const events: SseEvent[] = [];
  await readSse(res.body!, (e) => {
    events.push(e);
    if (events.length >= count) throw new Error("enough");
  }).catch(() => {});
  await res.body!.cancel().catch(() => {});
  return events;
};

describe("flex live feed", () => {
  it("starts with a snapshot, replays exactly what a resuming client missed, and snapshots an unknown id", async () => {
    let state = { n: 0 };
    const feed = createLiveFeed({ snapshot: () => state });
    const server = http.createServer((req, res) => feed.serve(req, res, req.headers["last-event-id"] as string | undefined));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    closers.push(async () => {
      feed.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    feed.publish("health", { a: 1 });
    state = { n: 1 };
    const [snapshot] = await read(url, 1);
    expect(snapshot.event).toBe("snapshot");
    expect(JSON.parse(snapshot.data)).toEqual({ n: 1 });
    feed.publish("trade", { id: "t1" });
    feed.publish("trade", { id: "t2" });
    const resumed = await read(url, 2, snapshot.id!);
    expect(resumed.map((e) => [e.event, JSON.parse(e.data).id])).toEqual([
      ["trade", "t1"],
      ["trade", "t2"],
    ]);
    const stranger = await read(url, 1, "deadbeef.1");
    expect(stranger[0].event).toBe("snapshot");
  });
});
