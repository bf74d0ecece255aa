import "server-only";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

/** The TCP peer of the request's socket, written by this process, never by the client. */
export const PEER_HEADER = "x-switchyard-peer";
/** The resolved client address, set by `guardRequest` for better-auth (`advanced.ipAddress`). */
export const CLIENT_ADDRESS_HEADER = "x-switchyard-client-address";

const stamp = (message: unknown) => {
  const { request, socket } = message as { request: IncomingMessage; socket: Socket };
  // Overwrite whatever the client sent under these names.
  delete request.headers[CLIENT_ADDRESS_HEADER];
  if (socket.remoteAddress) request.headers[PEER_HEADER] = socket.remoteAddress;
  else delete request.headers[PEER_HEADER];
};

const g = globalThis as unknown as { __switchyardSocketPeers?: boolean };

/**
 * Records every incoming request's socket peer as a header. `next start` hands route
 * handlers and proxy.ts a Web `Request` without the socket; its only trace of the peer
 * is `x-forwarded-for`, which Next sets from the socket *only when the client sent none*
 * (`req.headers['x-forwarded-for'] ??= socket.remoteAddress` in base-server.js), so a
 * client that sends its own gets it passed through untouched. Node publishes
 * `http.server.request.start` for each request before the server's 'request' listener
 * (Next's router) runs, so the stamp is there before any Next code reads the headers.
 * Called once from instrumentation.ts `register()`, before the first request is served.
 */
export const recordSocketPeers = () => {
  if (g.__switchyardSocketPeers) return;
  g.__switchyardSocketPeers = true;
  subscribe("http.server.request.start", stamp);
};
