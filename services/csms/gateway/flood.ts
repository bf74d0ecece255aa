import type RPCServerClient from "ocpp-rpc/lib/server-client";
import type WebSocket from "ws";

/**
 * What the gateway does with a station that keeps sending after its rate limit refused it
 * (services/csms/README.md § Limits): every refused CALL pauses reading from that socket
 * for `pauseMs` (backpressure: its frames wait in its own TCP buffers, not in our event
 * loop), and more than `maxRefused` refusals within `windowMs` close the socket with 1008.
 */
export type FloodLimit = { pauseMs: number; maxRefused: number; windowMs: number };
export const DEFAULT_FLOOD_LIMIT: FloodLimit = { pauseMs: 1000, maxRefused: 100, windowMs: 10_000 };

/** Counts one station's refusals in a fixed window: `"pause"` until it exceeds the limit, then `"disconnect"`. */
export const createFloodGuard = ({ maxRefused, windowMs }: FloodLimit, now: () => number = Date.now) => {
  let windowStart = now();
  let refused = 0;
  return {
    refused: (): "pause" | "disconnect" => {
      const t = now();
      if (t - windowStart >= windowMs) {
        windowStart = t;
        refused = 0;
      }
      refused += 1;
      return refused > maxRefused ? "disconnect" : "pause";
    },
  };
};
export type FloodGuard = ReturnType<typeof createFloodGuard>;

/** ocpp-rpc keeps its ws socket private; pausing it is the only way to stop reading. */
const wsOf = (client: RPCServerClient) => (client as unknown as { _ws?: WebSocket })._ws;

/** Stops reading from the station's socket for `ms` (no-op when already paused or gone). */
export const pauseReading = (client: RPCServerClient, ms: number) => {
  const ws = wsOf(client);
  if (!ws || ws.isPaused || ws.readyState !== ws.OPEN) return false;
  ws.pause();
  setTimeout(() => {
    if (ws.readyState === ws.OPEN) ws.resume();
  }, ms).unref();
  return true;
};

/** Closes an abusive station's socket (1008 policy violation), terminating it if the close handshake stalls. */
export const disconnectAbuser = (client: RPCServerClient, reason: string) => {
  const ws = wsOf(client);
  if (!ws) return void client.close({ code: 1008, reason }).catch(() => {});
  // The close frame goes out at once (ocpp-rpc follows the socket's close); reading stays
  // paused, so nothing more of the flood is parsed meanwhile.
  ws.pause();
  ws.close(1008, reason);
  setTimeout(() => ws.terminate(), 5000).unref();
};

/**
 * ocpp-rpc's strict validator names a missing property `OccurenceConstraintViolation` (the
 * OCPP 1.6 spelling) whatever the protocol; OCPP 2.0.1 spells it `OccurrenceConstraintViolation`.
 * Wraps the client's writer so a 2.0.1 station gets its own spelling.
 */
export const fixErrorSpelling = (client: RPCServerClient) => {
  const target = client as unknown as { sendRaw: (message: string) => void };
  const send = target.sendRaw.bind(client);
  target.sendRaw = (message: string) => {
    if (message.startsWith("[4,") && message.includes('"OccurenceConstraintViolation"')) {
      const frame = JSON.parse(message) as unknown[];
      if (frame[2] === "OccurenceConstraintViolation") frame[2] = "OccurrenceConstraintViolation";
      return send(JSON.stringify(frame));
    }
    return send(message);
  };
};
