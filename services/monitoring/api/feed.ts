import { randomBytes } from "node:crypto";
import type http from "node:http";
import type { FeedEventName } from "../../../contracts/monitoring";

/**
 * The summary API's live feed (`GET /api/v1/events`), like the CSMS manager's: a ring
 * buffer of events with ids `<epoch>.<seq>`, served as SSE. Each event belongs to a region
 * (flags to all) and a client only ever receives its own regions' events. A client resumes
 * with Last-Event-ID; when the buffer cannot replay (another epoch, too old) it first gets
 * `event: resync` and must re-fetch `GET /api/v1/snapshot`.
 */
type Entry = { seq: number; region: string | null; text: string };
type Client = { res: http.ServerResponse; regions: Set<string> };

export const createFeed = ({ size = 20_000, pingMs = 15_000, maxBufferedBytes = 8 * 1024 * 1024 } = {}) => {
  const epoch = randomBytes(4).toString("hex");
  const ring: (Entry | undefined)[] = new Array(size);
  let seq = 0;
  const clients = new Set<Client>();
  const visible = (c: Client, e: Entry) => e.region === null || c.regions.has(e.region);

  const write = (c: Client, text: string) => {
    // A client that cannot keep up is dropped; it resumes with Last-Event-ID.
    if (c.res.writableLength > maxBufferedBytes) {
      clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(text);
  };
  const ping = setInterval(() => clients.forEach((c) => write(c, ": ping\n\n")), pingMs);
  ping.unref();

  return {
    epoch,
    seq: () => seq,
    publish: (event: FeedEventName, region: string | null, data: unknown) => {
      seq += 1;
      const entry: Entry = { seq, region, text: `id: ${epoch}.${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n` };
      ring[seq % size] = entry;
      for (const c of clients) if (visible(c, entry)) write(c, entry.text);
    },
    serve: (req: http.IncomingMessage, res: http.ServerResponse, regions: string[], lastEventId: string | undefined) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
      res.flushHeaders();
      res.write(": connected\n\n");
      const client: Client = { res, regions: new Set(regions) };
      if (lastEventId) {
        const m = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim());
        const from = m && m[1] === epoch ? Number(m[2]) : undefined;
        const at = (s: number) => (ring[s % size]?.seq === s ? ring[s % size] : undefined);
        const replayable = from !== undefined && from <= seq && (from === seq || at(from + 1) !== undefined);
        if (!replayable) res.write(`id: ${epoch}.${seq}\nevent: resync\ndata: ${JSON.stringify({ epoch, seq })}\n\n`);
        else for (let s = from + 1; s <= seq; s++) if (visible(client, at(s)!)) res.write(at(s)!.text);
      }
      clients.add(client);
      const drop = () => clients.delete(client);
      req.on("close", drop);
      res.on("close", drop);
      res.on("error", drop);
    },
    clients: () => clients.size,
    close: () => {
      clearInterval(ping);
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
};
export type SummaryFeed = ReturnType<typeof createFeed>;
