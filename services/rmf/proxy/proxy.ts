import http from "node:http";
import type pino from "pino";
import { Counter, Gauge } from "prom-client";
import { io as connectUpstream, type Socket as UpstreamSocket } from "socket.io-client";
import { parseRoom, ROOM_SPECS, SOCKET_PATH, SUBSCRIBE_ERRORS, subscribeAckSchema, type ParsedRoom } from "../../../contracts/rmf";
import { closeServer, listen, urlHost } from "../../../lib/net";
import { bearerToken, sendJson } from "../../lib/http";
import { createOpsHandler, createRegistry } from "../../lib/ops";
import { createVerifier, signToken } from "../lib/jwt";
import { createRoomServer, type RoomServerLimits, type SubscribeResult } from "../lib/room-server";

/**
 * An RMF fan-out proxy: serves rmf-web's protocol to many clients and holds one upstream
 * subscription per room on main however many clients want it (refcounted), with the sticky
 * value cached. REST (commands included) is forwarded to main as is. After losing main it
 * keeps its clients, serves them the cache, and on reconnect re-subscribes every room:
 * main's fresh snapshots flow to the clients as ordinary events.
 */
export type ProxyOptions = {
  host?: string;
  port: number;
  mainUrl: string;
  jwtSecret: string;
  jwtIssuer: string;
  /** Names this proxy in its upstream token and logs. */
  proxyId?: string;
  limits?: Partial<RoomServerLimits>;
  /** How long a client's subscribe waits for main before `503 Service Unavailable`. */
  subscribeTimeoutMs?: number;
  restTimeoutMs?: number;
  metricsToken?: string;
  log: pino.Logger;
};

type Entry = {
  parsed: ParsedRoom;
  refs: Set<string>;
  /** subscribing: asked main, no answer yet; live: subscribed; stale: was live, main lost (cache still served). */
  status: "subscribing" | "live" | "stale";
  cache?: unknown;
  waiters: Set<(r: SubscribeResult) => void>;
};

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

export const startProxy = async (opts: ProxyOptions) => {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log;
  const proxyId = opts.proxyId ?? `rmf-proxy-${process.pid}`;
  const subscribeTimeoutMs = opts.subscribeTimeoutMs ?? 5000;
  const registry = createRegistry();
  const verify = createVerifier({ secret: opts.jwtSecret, issuer: opts.jwtIssuer });
  const entries = new Map<string, Entry>();
  let closing = false;

  const upstreamEvents = new Counter({ name: "rmf_proxy_upstream_events_total", help: "Room events received from main by outcome", labelNames: ["outcome"] as const, registers: [registry] });
  const resyncs = new Counter({ name: "rmf_proxy_resyncs_total", help: "Reconnects to main after which every room was re-subscribed", registers: [registry] });
  new Gauge({
    name: "rmf_proxy_upstream_rooms",
    help: "Rooms this proxy holds on main (one per room, whatever the number of clients)",
    registers: [registry],
    collect() {
      this.set(entries.size);
    },
  });
  new Gauge({
    name: "rmf_proxy_upstream_connected",
    help: "1 while connected to main",
    registers: [registry],
    collect() {
      this.set(upstream.connected ? 1 : 0);
    },
  });

  // A fresh read-only token per (re)connect, so a long outage never leaves an expired one.
  const upstream: UpstreamSocket = connectUpstream(opts.mainUrl, {
    path: SOCKET_PATH,
    transports: ["websocket"],
    reconnectionDelay: 200,
    reconnectionDelayMax: 2000,
    randomizationFactor: 0.3,
    auth: (cb) => {
      void signToken({ secret: opts.jwtSecret, issuer: opts.jwtIssuer, username: proxyId, permissions: ["task_read"], expiresIn: "1h", fanOut: true }).then((token) => cb({ token }));
    },
  });

  const settle = (entry: Entry, result: SubscribeResult) => {
    for (const w of entry.waiters) w(result);
    entry.waiters.clear();
  };

  const subscribeUpstream = (entry: Entry) => {
    if (!upstream.connected) return;
    entry.status = "subscribing";
    upstream.timeout(subscribeTimeoutMs).emit("subscribe", { room: entry.parsed.room }, (err: Error | null, raw: unknown) => {
      if (entries.get(entry.parsed.room) !== entry) return;
      if (err) {
        // No answer: main is probably going away; the reconnect re-subscribes.
        if (upstream.connected) subscribeUpstream(entry);
        return;
      }
      const ack = subscribeAckSchema.safeParse(raw);
      if (ack.success && ack.data.success) {
        entry.status = "live";
        return settle(entry, { ok: true });
      }
      const error = ack.success ? ack.data.error : SUBSCRIBE_ERRORS.unavailable;
      entries.delete(entry.parsed.room);
      settle(entry, { ok: false, error });
      log.debug({ room: entry.parsed.room, error }, "main refused a subscription");
      // A re-subscription main refused: clients already joined would wait in silence.
      rooms.evict(entry.parsed.room);
    });
  };

  upstream.on("connect", () => {
    log.info({ mainUrl: opts.mainUrl, rooms: entries.size }, "rmf proxy connected to main");
    if (entries.size) resyncs.inc();
    for (const entry of entries.values()) subscribeUpstream(entry);
  });
  upstream.on("disconnect", (reason) => {
    log.warn({ reason }, "rmf proxy lost main");
    for (const entry of entries.values()) if (entry.status === "live") entry.status = "stale";
    // socket.io-client does not come back by itself after the server closed the socket (main shutting down).
    if (reason === "io server disconnect" && !closing) upstream.connect();
  });
  upstream.on("connect_error", (error) => log.debug({ err: error.message }, "rmf proxy cannot reach main"));
  upstream.onAny((event: string, payload: unknown) => {
    const entry = entries.get(event);
    if (!entry) return upstreamEvents.inc({ outcome: "unsubscribed" });
    const spec = ROOM_SPECS[entry.parsed.kind];
    if (!spec.payload.safeParse(payload).success) {
      upstreamEvents.inc({ outcome: "invalid" });
      return log.warn({ room: event }, "invalid payload from main dropped");
    }
    upstreamEvents.inc({ outcome: "ok" });
    if (spec.sticky) entry.cache = payload;
    rooms.publish(entry.parsed, payload);
  });

  const ops = createOpsHandler({ registry, metricsToken: opts.metricsToken, check: () => ({ ok: upstream.connected, main: upstream.connected ? "connected" : "disconnected", rooms: entries.size }) });

  const mainOrigin = new URL(opts.mainUrl).origin;
  /**
   * Main's URL for a request: only its path and query are kept, glued onto main's origin as
   * text, so neither an absolute-form target (`GET http://elsewhere/…`) nor a path that
   * resolves to `//elsewhere/…` makes the proxy an open relay.
   */
  const targetOf = (req: http.IncomingMessage) => {
    const asked = new URL(req.url ?? "/", "http://proxy");
    return new URL(`${mainOrigin}${asked.pathname}${asked.search}`);
  };
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = targetOf(req);
    if (target.origin !== mainOrigin) return sendJson(res, 400, { detail: "Bad request target" });
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    const upstreamReq = http.request(target, { method: req.method, headers, timeout: opts.restTimeoutMs ?? 15_000 }, (upstreamRes) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(upstreamRes.headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(upstreamRes.statusCode ?? 502, out);
      upstreamRes.pipe(res);
    });
    upstreamReq.on("timeout", () => upstreamReq.destroy(new Error("timeout")));
    upstreamReq.on("error", (error) => {
      if (res.headersSent) return void res.destroy();
      sendJson(res, error.message === "timeout" ? 504 : 502, { detail: `rmf main unreachable: ${error.message}` });
    });
    req.pipe(upstreamReq);
  };

  const httpServer = http.createServer((req, res) => {
    if (ops(req, res)) return;
    const pathname = new URL(req.url ?? "/", "http://proxy").pathname;
    if (pathname === "/time") return forward(req, res);
    // Junk never reaches main: the token is checked here first (main checks it again, with permissions).
    const token = bearerToken(req);
    if (!token) return sendJson(res, 401, { detail: "Not authenticated" });
    verify(token).then(
      (user) => (user ? forward(req, res) : sendJson(res, 401, { detail: "Invalid token" })),
      () => sendJson(res, 401, { detail: "Invalid token" }),
    );
  });
  httpServer.on("upgrade", (req, socket) => {
    if (!new URL(req.url ?? "/", "http://proxy").pathname.startsWith(SOCKET_PATH)) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });

  const rooms = createRoomServer({
    httpServer,
    verify,
    registry,
    metricPrefix: "rmf_proxy",
    log,
    limits: opts.limits,
    source: {
      subscribe: (parsed, socketId) => {
        let entry = entries.get(parsed.room);
        if (entry && entry.status !== "subscribing") {
          entry.refs.add(socketId);
          return { ok: true };
        }
        if (!entry) {
          entry = { parsed, refs: new Set(), status: "subscribing", waiters: new Set() };
          entries.set(parsed.room, entry);
          subscribeUpstream(entry);
        }
        entry.refs.add(socketId);
        const e = entry;
        return new Promise<SubscribeResult>((resolve) => {
          const timer = setTimeout(() => {
            e.waiters.delete(done);
            release(parsed, socketId);
            resolve({ ok: false, error: SUBSCRIBE_ERRORS.unavailable });
          }, subscribeTimeoutMs);
          const done = (r: SubscribeResult) => {
            clearTimeout(timer);
            resolve(r);
          };
          e.waiters.add(done);
        });
      },
      unsubscribe: (parsed, socketId) => release(parsed, socketId),
      current: (parsed) => entries.get(parsed.room)?.cache,
    },
  });

  const release = (parsed: ParsedRoom, socketId: string) => {
    const entry = entries.get(parsed.room);
    if (!entry) return;
    entry.refs.delete(socketId);
    if (entry.refs.size > 0) return;
    entries.delete(parsed.room);
    settle(entry, { ok: false, error: SUBSCRIBE_ERRORS.unavailable });
    if (upstream.connected) upstream.emit("unsubscribe", { room: parsed.room });
  };

  const port = await listen(httpServer, opts.port, host);
  const url = `http://${urlHost(host)}:${port}`;
  log.info({ url, mainUrl: opts.mainUrl }, "rmf proxy listening");

  return {
    url,
    port,
    registry,
    upstreamRooms: () => entries.size,
    upstreamConnected: () => upstream.connected,
    roomSize: rooms.roomSize,
    /** Tests: the room's entry (refs, status) without exposing the map. */
    upstreamRoom: (room: string) => {
      const parsed = parseRoom(room);
      const e = parsed ? entries.get(parsed.room) : undefined;
      return e ? { refs: e.refs.size, status: e.status } : undefined;
    },
    close: async () => {
      closing = true;
      upstream.close();
      await rooms.close();
      httpServer.closeAllConnections();
      await closeServer(httpServer);
    },
  };
};
export type RmfProxy = Awaited<ReturnType<typeof startProxy>>;
