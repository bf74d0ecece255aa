import http from "node:http";
import type { Duplex } from "node:stream";
import type { PrismaClient } from "@prisma/client";
import type pino from "pino";
import { WebSocketServer } from "ws";
import { BRIDGE_PATH, INTERNAL_PATH, SOCKET_PATH } from "../../../contracts/rmf";
import { closeServer, listen, urlHost } from "../../../lib/net";
import { bearerToken, sameSecret } from "../../lib/http";
import { createOpsHandler, createRegistry } from "../../lib/ops";
import { createApiRouter } from "../lib/api-router";
import { createVerifier } from "../lib/jwt";
import { createRoomServer, type RoomServerLimits } from "../lib/room-server";
import { createBridgeLink } from "./bridge-link";
import { createInternalFeed, INTERNAL_MAX_FRAME_BYTES } from "./internal-feed";
import { createPersistence } from "./persist";
import { registerRestRoutes } from "./rest-routes";
import { createRmfState } from "./state";

/**
 * RMF main: one port serving rmf-web's socket.io protocol and REST routes, the fleet
 * adapters' `/_internal` feed, the RMF bridge (`/_bridge`), `/health` and `/metrics`.
 * Memory is authoritative while it runs; the `rmf` schema holds everything behind it and
 * gives it all back at start.
 */
export type MainOptions = {
  host?: string;
  port: number;
  db: PrismaClient;
  jwtSecret: string;
  jwtIssuer: string;
  /** Fleet adapters and RMF bridges present this (Bearer header or `?token=`). */
  internalToken: string;
  /** How long a command waits for RMF (rmf-web: 5 s). */
  commandTimeoutMs?: number;
  limits?: Partial<RoomServerLimits>;
  internalRatePerSec?: number;
  internalBurst?: number;
  /** Bytes/s per fleet-adapter connection (default 8 MiB/s) and its burst (default max(2×, 8 MiB)). */
  internalBytesPerSec?: number;
  internalBytesBurst?: number;
  stuckAfterMs?: number;
  flushIntervalMs?: number;
  metricsToken?: string;
  log: pino.Logger;
};

export const handleTokenUpgrades = ({
  httpServer,
  token,
  endpoints,
}: {
  httpServer: http.Server;
  token: string;
  endpoints: Record<string, (ws: import("ws").WebSocket, peer: string) => void>;
}) => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: INTERNAL_MAX_FRAME_BYTES });
  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  httpServer.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://rmf");
    if (url.pathname.startsWith(SOCKET_PATH)) return; // socket.io's own
    const endpoint = endpoints[url.pathname];
    if (!endpoint) return refuse(socket, "404 Not Found");
    const given = bearerToken(req) ?? url.searchParams.get("token") ?? undefined;
    if (!sameSecret(given, token)) return refuse(socket, "401 Unauthorized");
    wss.handleUpgrade(req, socket, head, (ws) => endpoint(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
  });
  return wss;
};

export const startMain = async (opts: MainOptions) => {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log;
  const registry = createRegistry();
  const verify = createVerifier({ secret: opts.jwtSecret, issuer: opts.jwtIssuer });
  const persist = createPersistence({ db: opts.db, log, flushIntervalMs: opts.flushIntervalMs });

  // The room server needs the HTTP server and the state needs the room server's publish:
  // the state publishes through this late-bound function.
  let publish: Parameters<typeof createRmfState>[0]["publish"] = () => {};
  const state = createRmfState({ persist, publish: (room, payload) => publish(room, payload), registry, log, stuckAfterMs: opts.stuckAfterMs });
  const restored = await persist.restore({ recentTasks: 5000, recentAlerts: 2000 });
  state.restore(restored);
  log.info({ sticky: restored.sticky.length, tasks: restored.tasks.length, alerts: restored.alerts.length }, "rmf main state restored");

  const bridge = createBridgeLink({ state, registry, log, timeoutMs: opts.commandTimeoutMs ?? 5000 });
  const internal = createInternalFeed({ state, registry, log, ratePerSec: opts.internalRatePerSec ?? 500, burst: opts.internalBurst ?? 1000, bytesPerSec: opts.internalBytesPerSec, bytesBurst: opts.internalBytesBurst });
  const router = createApiRouter({ verify, log });
  registerRestRoutes({ router, state, persist, bridge });

  const ops = createOpsHandler({
    registry,
    metricsToken: opts.metricsToken,
    check: async () => {
      const db = await opts.db.$queryRawUnsafe("SELECT 1").then(
        () => "ok",
        (e: unknown) => (e as Error).message,
      );
      return { ok: db === "ok", db, fleetAdapters: internal.connections(), bridges: bridge.connections(), pendingWrites: persist.pendingCount() };
    },
  });
  const httpServer = http.createServer((req, res) => {
    if (ops(req, res)) return;
    router.handle(req, res);
  });
  const rooms = createRoomServer({
    httpServer,
    verify,
    registry,
    metricPrefix: "rmf_main",
    log,
    limits: opts.limits,
    source: {
      subscribe: async (room) => {
        if (room.kind === "task_state") return (await state.task(room.name!)) ? { ok: true } : { ok: false, error: "404 Not Found" };
        if (room.kind === "door_state" || room.kind === "lift_state" || room.kind === "dispenser_state" || room.kind === "ingestor_state")
          return state.stickyOf(room.kind, room.name) !== undefined ? { ok: true } : { ok: false, error: "404 Not Found" };
        return { ok: true };
      },
      unsubscribe: () => {},
      current: (room) => state.current(room),
    },
  });
  publish = rooms.publish;
  const wss = handleTokenUpgrades({ httpServer, token: opts.internalToken, endpoints: { [INTERNAL_PATH]: internal.accept, [BRIDGE_PATH]: bridge.accept } });

  const port = await listen(httpServer, opts.port, host);
  const url = `http://${urlHost(host)}:${port}`;
  log.info({ url }, "rmf main listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    state,
    registry,
    flush: () => persist.flush(),
    roomSize: rooms.roomSize,
    close: () =>
      (closing ??= (async () => {
        internal.close();
        bridge.close();
        wss.close();
        await rooms.close();
        await persist.close();
        httpServer.closeAllConnections();
        await closeServer(httpServer);
      })()),
  };
};
export type RmfMain = Awaited<ReturnType<typeof startMain>>;
