import { randomBytes } from "node:crypto";
import type http from "node:http";
import type { FeedEventType } from "../../contracts/flex/api";

/**
 * The node's live feed for the console (GET /api/v1/events): Server-Sent Events with ids
 * `<epoch>.<seq>` from a ring buffer. A client resuming with a Last-Event-ID the buffer
 * still covers gets exactly the missed events; any other client first gets `snapshot`
 * (the current state, id = the newest event) and then every event after it.
 */
export type LiveFeed = {
  epoch: string;
  seq: () => number;
  publish: (type: Exclude<FeedEventType, "snapshot" | "resync">, data: unknown) => void;
  serve: (req: http.IncomingMessage, res: http.ServerResponse, lastEventId: string | undefined) => void;
  clients: () => number;
  close: () => void;
};

const frame = (id: string, type: string, data: unknown) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

export const createLiveFeed = ({ snapshot, size = 20_000, pingMs = 15_000, maxBufferedBytes = 8 * 1024 * 1024 }: { snapshot: () => unknown; size?: number; pingMs?: number; maxBufferedBytes?: number }): LiveFeed => {
  const epoch = randomBytes(4).toString("hex");
  const ring: ({ seq: number; text: string } | undefined)[] = new Array(size);
  let seq = 0;
  const clients = new Set<http.ServerResponse>();

  // A client that cannot keep up is dropped rather than buffered without bound; it comes
  // back with its Last-Event-ID and gets a replay or a snapshot.
  const write = (res: http.ServerResponse, text: string) => {
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
      const text = frame(`${epoch}.${seq}`, type, data);
      ring[seq % size] = { seq, text };
      for (const res of clients) write(res, text);
    },
    serve: (req, res, lastEventId) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
      res.flushHeaders();
      res.write(": connected\n\n");
      const m = lastEventId ? /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim()) : null;
      const from = m && m[1] === epoch ? Number(m[2]) : undefined;
      const replayable = from !== undefined && from <= seq && (from === seq || ring[(from + 1) % size]?.seq === from + 1);
      if (replayable) for (let s = from + 1; s <= seq; s++) res.write(ring[s % size]!.text);
      else res.write(frame(`${epoch}.${seq}`, "snapshot", snapshot()));
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
