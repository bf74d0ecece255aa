import { describe, expect, it } from "vitest";
import { readSse, type SseEvent } from "./sse";

const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });

describe("the SSE reader", () => {
  it("parses events, ids, multi-line data and comments, across chunk boundaries and line-ending styles", async () => {
    const events: SseEvent[] = [];
    let activity = 0;
    await readSse(
      streamOf(": ping\n\n", "id: e1.1\nevent: station\nda", "ta: {\"id\":\"A\"}\n\n", "id: e1.2\r\nevent: meter\r\ndata: line1\r", "\ndata: line2\r\n\r\n", "event: resync\ndata:\n\n", "data: no-type\n\n"),
      (e) => void events.push(e),
      () => activity++,
    );
    expect(events).toEqual([
      { id: "e1.1", event: "station", data: '{"id":"A"}' },
      { id: "e1.2", event: "meter", data: "line1\nline2" },
      { id: "e1.2", event: "resync", data: "" },
      { id: "e1.2", event: "message", data: "no-type" },
    ]);
    expect(activity).toBe(7);
  });

  it("stops when a handler throws, so the caller can resync", async () => {
    const seen: string[] = [];
    await expect(
      readSse(streamOf("event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"), (e) => {
        seen.push(e.event);
        throw new Error("stop");
      }),
    ).rejects.toThrow("stop");
    expect(seen).toEqual(["a"]);
  });
});
