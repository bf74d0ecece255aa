import { randomBytes } from "node:crypto";
import type http from "node:http";

/**
 * The live change feed: an in-memory ring buffer of change events with ids
 * `<epoch>.<seq>` (epoch random per process start) served as Server-Sent Events.
 * A client resumes with Last-Event-ID; when the id is from another epoch or older than the
 * buffer, it first gets `event: resync` and must re-fetch the snapshot.
 */

export type FeedEventType = "station" | "transaction" | "meter";
export type FeedEvent = { seq: number; type: FeedEventType; data: unknown; text: string };

export type Feed = {
  epoch: string;
  /** The seq of the newest event (0 before the first). */
  seq: () => number;
  publish: (type: FeedEventType, data: unknown) => void;
  /** Serves one SSE client until it disconnects. */
  serve: (req: http.IncomingMessage, res: http.ServerResponse, lastEventId: string | undefined) => void;
  clients: () => number;
  close: () => void;
};

const frame = (id: string, type: string, data: unknown) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

export const createFeed = ({ size = 10_000, pingMs = 15_000, maxBufferedBytes = 16 * 1024 * 1024 } = {}): Feed => {
  const epoch = randomBytes(4).toString("hex");
  const ring: (FeedEvent | undefined)[] = new Array(size);
  let seq = 0;
  const clients = new Set<http.ServerResponse>();

  const eventAt = (s: number) => {
    const e = ring[s % size];
    return e && e.seq === s ? e : undefined;
  };

  const write = (res: http.ServerResponse, text: string) => {
    // A client that cannot keep up is dropped rather than buffered without bound; it
    // reconnects with its Last-Event-ID and gets a replay or a resync.
    if (res.writableLength > maxBufferedBytes) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  };

  const ping = setInterval(() => {
    for (const res of clients) write(res, ": ping\n\n");
  }, pingMs);
  ping.unref();

  return {
    epoch,
    seq: () => seq,
    publish: (type, data) => {
      seq += 1;
      const e: FeedEvent = { seq, type, data, text: frame(`${epoch}.${seq}`, type, data) };
      ring[seq % size] = e;
      for (const res of clients) write(res, e.text);
    },
    serve: (req, res, lastEventId) => {
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.flushHeaders();
      res.write(": connected\n\n");
      if (lastEventId !== undefined && lastEventId !== "") {
        const m = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim());
        const from = m && m[1] === epoch ? Number(m[2]) : undefined;
        // Replayable when every event after `from` is still in the buffer.
        const replayable = from !== undefined && from <= seq && (from === seq || eventAt(from + 1) !== undefined);
        if (!replayable) res.write(`id: ${epoch}.${seq}\nevent: resync\ndata: ${JSON.stringify({ epoch, seq })}\n\n`);
        else for (let s = from + 1; s <= seq; s++) res.write(eventAt(s)!.text);
      }
      clients.add(res);
      const drop = () => clients.delete(res);
      req.on("close", drop);
      res.on("close", drop);
      res.on("error", drop);
    },
    clients: () => clients.size,
    close: () => {
      clearInterval(ping);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
};
