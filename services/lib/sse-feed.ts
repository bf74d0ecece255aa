import { randomBytes } from "node:crypto";
import type http from "node:http";

/**
 * A live change feed served as Server-Sent Events, shared by every service that has one:
 * an in-memory ring buffer of events with ids `<epoch>.<seq>` (epoch random per process
 * start). A client resuming with a Last-Event-ID the buffer still covers gets exactly the
 * events it missed; any other client gets what `onGap` writes first (a `snapshot` of the
 * current state, or a `resync` telling it to re-fetch one) and then every event after it.
 *
 * Each event may carry a scope (e.g. a region) and each client a filter on it, so a client
 * only ever receives what it may see, replays included. A client that cannot keep up is
 * dropped rather than buffered without bound; it comes back with its Last-Event-ID.
 */
export type SseFeed<Scope = never> = {
  epoch: string;
  /** The seq of the newest event (0 before the first). */
  seq: () => number;
  publish: (event: string, data: unknown, scope?: Scope) => void;
  /** Serves one SSE client until it disconnects. */
  serve: (req: http.IncomingMessage, res: http.ServerResponse, opts: ServeOptions<Scope>) => void;
  clients: () => number;
  close: () => void;
};

export type ServeOptions<Scope> = {
  lastEventId: string | undefined;
  /** Which scoped events this client may see; unscoped events go to everyone. */
  sees?: (scope: Scope) => boolean;
};

export type SseFeedOptions = {
  size?: number;
  pingMs?: number;
  maxBufferedBytes?: number;
  /**
   * Written to a client whose Last-Event-ID cannot be replayed (`hadId`: it sent one), with
   * the id of the newest event. The default sends `resync` to a resuming client and nothing
   * to a new one.
   */
  onGap?: (write: (text: string) => void, at: { id: string; epoch: string; seq: number; hadId: boolean }) => void;
};

/** An unscoped feed whose event names are fixed by its service (the csms manager's, a flex node's). */
export type TypedSseFeed<Event extends string> = {
  epoch: string;
  /** The seq of the newest event (0 before the first). */
  seq: () => number;
  publish: (event: Event, data: unknown) => void;
  /** Serves one SSE client until it disconnects. */
  serve: (req: http.IncomingMessage, res: http.ServerResponse, lastEventId: string | undefined) => void;
  clients: () => number;
  close: () => void;
};

/** `createSseFeed` without scopes, narrowed to a service's event names. */
export const createTypedSseFeed = <Event extends string>(options: SseFeedOptions = {}): TypedSseFeed<Event> => {
  const feed = createSseFeed(options);
  return {
    epoch: feed.epoch,
    seq: feed.seq,
    publish: (event, data) => feed.publish(event, data),
    serve: (req, res, lastEventId) => feed.serve(req, res, { lastEventId }),
    clients: feed.clients,
    close: feed.close,
  };
};

export const sseFrame = (id: string, event: string, data: unknown) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const resyncOnGap: NonNullable<SseFeedOptions["onGap"]> = (write, { id, epoch, seq, hadId }) => {
  if (hadId) write(sseFrame(id, "resync", { epoch, seq }));
};

type Entry<Scope> = { seq: number; scoped: boolean; scope: Scope | undefined; text: string };
type Client<Scope> = { res: http.ServerResponse; sees: (scope: Scope) => boolean };

export const createSseFeed = <Scope = never>({ size = 10_000, pingMs = 15_000, maxBufferedBytes = 8 * 1024 * 1024, onGap = resyncOnGap }: SseFeedOptions = {}): SseFeed<Scope> => {
  const epoch = randomBytes(4).toString("hex");
  const ring: (Entry<Scope> | undefined)[] = new Array(size);
  let seq = 0;
  const clients = new Set<Client<Scope>>();

  const entryAt = (s: number) => {
    const e = ring[s % size];
    return e && e.seq === s ? e : undefined;
  };
  const visible = (c: Client<Scope>, e: Entry<Scope>) => !e.scoped || c.sees(e.scope as Scope);
  const write = (c: Client<Scope>, text: string) => {
    if (c.res.writableLength > maxBufferedBytes) {
      clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(text);
  };

  const ping = setInterval(() => {
    for (const c of clients) write(c, ": ping\n\n");
  }, pingMs);
  ping.unref();

  return {
    epoch,
    seq: () => seq,
    publish: (event, data, scope) => {
      seq += 1;
      const entry: Entry<Scope> = { seq, scoped: scope !== undefined, scope, text: sseFrame(`${epoch}.${seq}`, event, data) };
      ring[seq % size] = entry;
      for (const c of clients) if (visible(c, entry)) write(c, entry.text);
    },
    serve: (req, res, { lastEventId, sees = () => true }) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
      res.flushHeaders();
      res.write(": connected\n\n");
      const client: Client<Scope> = { res, sees };
      const hadId = lastEventId !== undefined && lastEventId.trim() !== "";
      const m = hadId ? /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId!.trim()) : null;
      const from = m && m[1] === epoch ? Number(m[2]) : undefined;
      // Replayable when every event after `from` is still in the buffer.
      const replayable = from !== undefined && from <= seq && (from === seq || entryAt(from + 1) !== undefined);
      if (replayable) {
        for (let s = from + 1; s <= seq; s++) if (visible(client, entryAt(s)!)) res.write(entryAt(s)!.text);
      } else onGap((text) => res.write(text), { id: `${epoch}.${seq}`, epoch, seq, hadId });
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
