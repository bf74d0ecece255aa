import http from "node:http";
import type net from "node:net";
import type { Duplex } from "node:stream";
import type { RPCServer } from "ocpp-rpc";
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import { isValidStationId } from "../../../contracts/csms/mqtt";
import { PROTOCOLS, type GatewayContext } from "./context";
import type { MqttLink } from "./mqtt-link";

/**
 * The way in for a station: the HTTP upgrade (path, station id, broker up, not too many
 * upgrades waiting), its authentication (auth.ts decides), and a plain HTTP answer for
 * every refusal, never a bare reset.
 */

/** Answers an HTTP upgrade with a plain status and drops the socket (no websocket is made). */
const refuseUpgrade = (socket: Duplex, status: number, message: string, headers: Record<string, string> = {}) => {
  if (socket.writable) {
    const body = `${message}\n`;
    const head = {
      connection: "close",
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      ...headers,
    };
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\n${Object.entries(head)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\r\n")}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
};

/**
 * Extracts the basic-auth password. ocpp-rpc already does this when the username equals
 * the identity; the fallback covers registrations that allow a mismatching username.
 */
const credentials = (stationId: string, handshakePassword: Buffer | undefined, authorization: string | undefined) => {
  if (handshakePassword) return { password: handshakePassword.toString("utf8"), usernameMatches: true };
  const m = authorization ? /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(authorization) : null;
  if (!m) return { password: undefined, usernameMatches: false };
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { password: undefined, usernameMatches: false };
  return { password: decoded.slice(colon + 1), usernameMatches: decoded.slice(0, colon) === stationId };
};

export const createUpgrades = (
  { opts, log, shouldLog, metrics, state }: GatewayContext,
  { mqtt }: MqttLink,
  rpc: RPCServer,
  attachClient: (client: RPCServerClient) => Promise<void>,
) => {
  const maxPendingUpgrades = opts.maxPendingUpgrades ?? 1000;
  let pendingUpgrades = 0;
  /** Ends an upgrade's "pending" count once ocpp-rpc made a client of it. */
  const upgradeDone = new WeakMap<http.IncomingMessage, () => void>();

  rpc.auth(async (accept, reject, handshake, signal) => {
    const stationId = handshake.identity;
    const protocol = PROTOCOLS.find((p) => handshake.protocols.has(p));
    if (!protocol) {
      metrics.upgrades.inc({ outcome: "bad_request" });
      return reject(400, `offer one of the subprotocols ${PROTOCOLS.join(", ")}`);
    }
    const { password, usernameMatches } = credentials(stationId, handshake.password, handshake.headers.authorization);
    let ok: boolean;
    try {
      ok = await opts.authenticate(stationId, password, { usernameMatches });
    } catch (error) {
      metrics.upgrades.inc({ outcome: "unavailable" });
      log.warn({ stationId, err: (error as Error).message }, "station authentication unavailable");
      return reject(503, "authentication temporarily unavailable");
    }
    if (signal?.aborted) return;
    if (!ok) {
      metrics.upgrades.inc({ outcome: "unauthorized" });
      if (shouldLog(`auth:${stationId}`)) log.warn({ stationId, remote: handshake.remoteAddress, hasPassword: password !== undefined }, "station refused: unknown or wrong password");
      return reject(401, "Unauthorized");
    }
    metrics.upgrades.inc({ outcome: "accepted" });
    accept({ stationId }, protocol);
  });
  rpc.on("client", (client: RPCServerClient) => {
    const request = (client as unknown as { _handshake?: { request?: http.IncomingMessage } })._handshake?.request;
    if (request) upgradeDone.get(request)?.();
    if (state.closing) {
      void client.close({ code: 1001, reason: "gateway shutting down" }).catch(() => {});
      return;
    }
    attachClient(client).catch((error: unknown) => log.error({ err: (error as Error).message }, "attaching a station failed"));
  });

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {}); // resets during a refused upgrade are not our problem
    const pathname = new URL(req.url ?? "/", "http://gateway").pathname;
    const match = /^\/ws\/([^/]+)$/.exec(pathname);
    if (!match) {
      metrics.upgrades.inc({ outcome: "not_found" });
      return refuseUpgrade(socket, 404, "stations connect to /ws/<stationId>");
    }
    let stationId: string;
    try {
      stationId = decodeURIComponent(match[1]);
    } catch {
      metrics.upgrades.inc({ outcome: "bad_request" });
      return refuseUpgrade(socket, 400, "malformed station id");
    }
    if (!isValidStationId(stationId)) {
      metrics.upgrades.inc({ outcome: "bad_request" });
      return refuseUpgrade(socket, 400, "station id must match [A-Za-z0-9._:@-]{1,48}");
    }
    // Without the broker every CALL would fail; a refused upgrade makes the station back
    // off and retry (or try another gateway behind the load balancer).
    if (state.closing || !mqtt.connected) {
      metrics.upgrades.inc({ outcome: "unavailable" });
      return refuseUpgrade(socket, 503, "gateway unavailable", { "retry-after": "5" });
    }
    if (pendingUpgrades >= maxPendingUpgrades) {
      metrics.upgrades.inc({ outcome: "busy" });
      if (shouldLog("upgrades-busy")) log.warn({ pendingUpgrades, maxPendingUpgrades }, "too many upgrades waiting for authentication; refusing with 503");
      return refuseUpgrade(socket, 503, "gateway busy, retry shortly", { "retry-after": "2" });
    }
    pendingUpgrades += 1;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      pendingUpgrades -= 1;
    };
    socket.once("close", done);
    upgradeDone.set(req, done);
    rpc.handleUpgrade(req, socket as net.Socket, head).catch((error: unknown) => {
      log.warn({ err: (error as Error).message }, "websocket upgrade failed");
      refuseUpgrade(socket, 500, "internal error");
    }).finally(() => {
      // Rejected or failed upgrades are finished here; accepted ones once the client is attached.
      if (socket.destroyed) done();
    });
  };
  // A malformed or timed-out HTTP request still gets an answer, never a bare reset.
  const onClientError = (error: Error & { code?: string }, socket: Duplex) => {
    if (socket.writable && !socket.destroyed) {
      const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ERR_HTTP_HEADERS_TIMEOUT" ? 408 : error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else socket.destroy();
  };

  return { onUpgrade, onClientError };
};
