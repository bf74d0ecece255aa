import type http from "node:http";
import type pino from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { Server, type Socket } from "socket.io";
import {
  ACK_OK,
  ackError,
  CONNECT_REFUSED_MESSAGE,
  hasPermission,
  parseRoom,
  ROOM_SPECS,
  SOCKET_PATH,
  SUBSCRIBE_ERRORS,
  subscribeRequestSchema,
  type ParsedRoom,
  type RmfUser,
  type SubscribeAck,
} from "../../../contracts/rmf";
import type { Verifier } from "./jwt";
import { createTokenBucket, type TokenBucket } from "./token-bucket";

/**
 * The client-facing half of rmf-web's realtime protocol, shared by main and every proxy:
 * JWT at the handshake, `subscribe`/`unsubscribe` `{room}` with acks to the requester only,
 * a sticky snapshot on (every) subscribe, one socket.io room per RMF room so a broadcast is
 * encoded once however many sockets listen. What differs between main and a proxy is where
 * a room's data comes from: the `RoomSource`.
 *
 * Protection: per-socket room cap and subscribe rate, state rooms held to one event per
 * `minStateIntervalMs` on average (latest wins; a 10 Hz fleet passes untouched), and sockets
 * that stop reading (buffer over `maxBufferedBytes`) are disconnected instead of growing
 * memory or slowing the rest.
 */
export type SubscribeResult = { ok: true } | { ok: false; error: string };

export type RoomSource = {
  /** First subscription of one socket to a room; resolves once the room can be joined. */
  subscribe: (room: ParsedRoom, socketId: string) => Promise<SubscribeResult> | SubscribeResult;
  /** The socket left the room (unsubscribe or disconnect). */
  unsubscribe: (room: ParsedRoom, socketId: string) => void;
  /** The sticky value right now (undefined when none): sent on every successful subscribe. */
  current: (room: ParsedRoom) => unknown;
};

export type RoomServerLimits = {
  maxRoomsPerSocket: number;
  subscribesPerSec: number;
  subscribeBurst: number;
  minStateIntervalMs: number;
  maxBufferedBytes: number;
};

export const DEFAULT_ROOM_LIMITS: RoomServerLimits = {
  maxRoomsPerSocket: 2000,
  subscribesPerSec: 200,
  subscribeBurst: 2000,
  minStateIntervalMs: 50,
  maxBufferedBytes: 16 * 1024 * 1024,
};

type SocketData = { user: RmfUser; rooms: Map<string, ParsedRoom>; pending: Map<string, Promise<SubscribeResult>>; bucket: TokenBucket };

type Coalesce = { tokens: number; at: number; pending?: unknown; timer?: NodeJS.Timeout };
const STATE_BURST = 4;

export const createRoomServer = ({
  httpServer,
  verify,
  source,
  limits: limitOverrides = {},
  registry,
  metricPrefix,
  log,
}: {
  httpServer: http.Server;
  verify: Verifier;
  source: RoomSource;
  limits?: Partial<RoomServerLimits>;
  registry: Registry;
  /** rmf_main or rmf_proxy. */
  metricPrefix: string;
  log: pino.Logger;
}) => {
  const limits = { ...DEFAULT_ROOM_LIMITS, ...limitOverrides };
  const io = new Server(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    // Other websocket endpoints (/_internal, /_bridge) share the HTTP server.
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 20_000,
  });

  const subscribes = new Counter({ name: `${metricPrefix}_subscribes_total`, help: "Subscribe requests by outcome", labelNames: ["outcome"] as const, registers: [registry] });
  const deliveries = new Counter({ name: `${metricPrefix}_deliveries_total`, help: "Room events delivered to sockets (one per socket per event)", registers: [registry] });
  const coalesced = new Counter({ name: `${metricPrefix}_coalesced_total`, help: "State events replaced by a newer one inside the coalescing window", registers: [registry] });
  const evictions = new Counter({ name: `${metricPrefix}_evictions_total`, help: "Sockets disconnected because the source withdrew a room they were subscribed to", registers: [registry] });
  const slowDisconnects = new Counter({ name: `${metricPrefix}_slow_consumer_disconnects_total`, help: "Sockets dropped for not reading their events", registers: [registry] });
  new Gauge({
    name: `${metricPrefix}_sockets`,
    help: "Connected client sockets",
    registers: [registry],
    collect() {
      this.set(io.of("/").sockets.size);
    },
  });
  for (const outcome of ["ok", "repeat", "missing_room", "unknown_room", "forbidden", "too_many_rooms", "too_fast", "refused"]) subscribes.inc({ outcome }, 0);

  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    verify(auth?.token).then(
      (user) => {
        if (!user) return next(new Error(CONNECT_REFUSED_MESSAGE));
        const data: SocketData = { user, rooms: new Map(), pending: new Map(), bucket: createTokenBucket({ ratePerSec: limits.subscribesPerSec, burst: limits.subscribeBurst }) };
        socket.data = data;
        next();
      },
      () => next(new Error(CONNECT_REFUSED_MESSAGE)),
    );
  });

  const roomSize = (room: string) => io.of("/").adapter.rooms.get(room)?.size ?? 0;

  const handleSubscribe = async (socket: Socket, raw: unknown, reply: (ack: SubscribeAck) => void) => {
    const data = socket.data as SocketData;
    const request = subscribeRequestSchema.safeParse(raw);
    if (!request.success) {
      subscribes.inc({ outcome: "missing_room" });
      return reply(ackError(SUBSCRIBE_ERRORS.missingRoom));
    }
    // A fan-out proxy's socket carries all its clients' rooms; the proxy limits each client.
    if (!data.user.fanOut && !data.bucket.take()) {
      subscribes.inc({ outcome: "too_fast" });
      return reply(ackError(SUBSCRIBE_ERRORS.tooFast));
    }
    const parsed = parseRoom(request.data.room);
    if (!parsed) {
      subscribes.inc({ outcome: "unknown_room" });
      return reply(ackError(SUBSCRIBE_ERRORS.notFound));
    }
    const spec = ROOM_SPECS[parsed.kind];
    if (spec.permission && !hasPermission(data.user, spec.permission)) {
      subscribes.inc({ outcome: "forbidden" });
      return reply(ackError(SUBSCRIBE_ERRORS.forbidden));
    }
    // A repeated subscribe (a client resyncing) gets a fresh snapshot and no second subscription.
    const inFlight = data.pending.get(parsed.room);
    if (inFlight) {
      const r = await inFlight;
      return reply(r.ok ? ACK_OK : ackError(r.error));
    }
    if (data.rooms.has(parsed.room)) {
      subscribes.inc({ outcome: "repeat" });
      const sticky = spec.sticky ? source.current(parsed) : undefined;
      if (sticky !== undefined) socket.emit(parsed.room, sticky);
      return reply(ACK_OK);
    }
    if (!data.user.fanOut && data.rooms.size + data.pending.size >= limits.maxRoomsPerSocket) {
      subscribes.inc({ outcome: "too_many_rooms" });
      return reply(ackError(SUBSCRIBE_ERRORS.tooManyRooms));
    }
    const attempt = Promise.resolve()
      .then(() => source.subscribe(parsed, socket.id))
      .catch((error: unknown): SubscribeResult => {
        log.warn({ room: parsed.room, err: (error as Error).message }, "subscribe failed");
        return { ok: false, error: SUBSCRIBE_ERRORS.unavailable };
      });
    data.pending.set(parsed.room, attempt);
    const result = await attempt;
    data.pending.delete(parsed.room);
    if (!result.ok) {
      subscribes.inc({ outcome: "refused" });
      return reply(ackError(result.error));
    }
    if (!socket.connected) {
      source.unsubscribe(parsed, socket.id);
      return;
    }
    // Join, snapshot and ack in one tick: nothing published in between can be missed.
    data.rooms.set(parsed.room, parsed);
    socket.join(parsed.room);
    const sticky = spec.sticky ? source.current(parsed) : undefined;
    if (sticky !== undefined) socket.emit(parsed.room, sticky);
    subscribes.inc({ outcome: "ok" });
    reply(ACK_OK);
  };

  const leave = (socket: Socket, room: string) => {
    const data = socket.data as SocketData;
    const parsed = data.rooms.get(room);
    if (!parsed) return false;
    data.rooms.delete(room);
    socket.leave(room);
    source.unsubscribe(parsed, socket.id);
    return true;
  };

  io.on("connection", (socket) => {
    const ackOf = (ack: unknown) => (typeof ack === "function" ? (ack as (a: SubscribeAck) => void) : () => {});
    socket.on("subscribe", (raw: unknown, ack: unknown) => {
      void handleSubscribe(socket, raw, ackOf(ack));
    });
    socket.on("unsubscribe", (raw: unknown, ack: unknown) => {
      const reply = ackOf(ack);
      const request = subscribeRequestSchema.safeParse(raw);
      if (!request.success) return reply(ackError(SUBSCRIBE_ERRORS.missingRoom));
      const parsed = parseRoom(request.data.room);
      if (!parsed || !leave(socket, parsed.room)) return reply(ackError("not subscribed to topic"));
      reply(ACK_OK);
    });
    socket.on("disconnect", () => {
      for (const room of [...(socket.data as SocketData).rooms.keys()]) leave(socket, room);
    });
  });

  const emitNow = (room: string, payload: unknown) => {
    const size = roomSize(room);
    if (size === 0) return;
    io.to(room).emit(room, payload);
    deliveries.inc(size);
  };

  const coalescing = new Map<string, Coalesce>();
  const ratePerMs = limits.minStateIntervalMs > 0 ? 1 / limits.minStateIntervalMs : Infinity;
  /**
   * Publishes an event to a room's subscribers. State rooms pass a token bucket per room
   * (rate 1 / minStateIntervalMs, burst STATE_BURST): a jittery 10 Hz fleet whose updates
   * arrive bunched still gets every one through, while a flooding adapter is held to the
   * rate, the latest state winning at the end of each wait.
   */
  const publish = (parsed: ParsedRoom, payload: unknown) => {
    if (!ROOM_SPECS[parsed.kind].sticky || ratePerMs === Infinity) return emitNow(parsed.room, payload);
    const now = performance.now();
    let c = coalescing.get(parsed.room);
    if (!c) coalescing.set(parsed.room, (c = { tokens: STATE_BURST, at: now }));
    if (c.timer) {
      coalesced.inc();
      c.pending = payload;
      return;
    }
    c.tokens = Math.min(STATE_BURST, c.tokens + (now - c.at) * ratePerMs);
    c.at = now;
    if (c.tokens >= 1) {
      c.tokens -= 1;
      return emitNow(parsed.room, payload);
    }
    c.pending = payload;
    const entry = c;
    c.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.at = performance.now();
      entry.tokens = 0;
      const latest = entry.pending;
      entry.pending = undefined;
      emitNow(parsed.room, latest);
    }, (1 - c.tokens) / ratePerMs);
  };
  /** Forgets coalescing state of rooms nobody listens to (bounded memory with many tasks). */
  const sweep = setInterval(() => {
    for (const [room, c] of coalescing) if (!c.timer && roomSize(room) === 0) coalescing.delete(room);
    for (const socket of io.of("/").sockets.values()) {
      const conn = socket.conn as unknown as { writeBuffer?: unknown[]; transport?: { socket?: { bufferedAmount?: number } } };
      const buffered = conn.transport?.socket?.bufferedAmount ?? 0;
      if (buffered > limits.maxBufferedBytes || (conn.writeBuffer?.length ?? 0) > 50_000) {
        slowDisconnects.inc();
        log.warn({ socket: socket.id, user: (socket.data as SocketData).user?.username, buffered }, "disconnecting a socket that does not read its events");
        socket.disconnect(true);
      }
    }
  }, 1000);
  sweep.unref();

  /**
   * The source can no longer serve a room its subscribers joined (main refused the proxy's
   * re-subscription after a restart). They are disconnected rather than left joined to a room
   * that will never speak again: a client reconnects, subscribes again and reads the refusal
   * in the ack. Returns how many were disconnected.
   */
  const evict = (room: string) => {
    const ids = io.of("/").adapter.rooms.get(room);
    if (!ids) return 0;
    let n = 0;
    for (const id of [...ids]) {
      const socket = io.of("/").sockets.get(id);
      if (!socket) continue;
      n++;
      socket.disconnect(true);
    }
    evictions.inc(n);
    if (n) log.warn({ room, sockets: n }, "room withdrawn by its source: subscribers disconnected so they resubscribe and see why");
    return n;
  };

  return {
    io,
    publish,
    evict,
    /** Sockets in a room (tests, metrics). */
    roomSize,
    close: async () => {
      clearInterval(sweep);
      for (const c of coalescing.values()) clearTimeout(c.timer);
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
};
export type RoomServer = ReturnType<typeof createRoomServer>;
