import type pino from "pino";
import { Counter, type Registry } from "prom-client";
import type { WebSocket } from "ws";
import { parseInternalFrame, type InternalNotice } from "../../../contracts/rmf";
import { createTokenBucket } from "../lib/token-bucket";
import type { RmfState } from "./state";

/**
 * `/_internal`: fleet adapters' feed (rmf-web's four message types). Every frame is checked
 * against its contract; a bad one is answered with a notice and changes nothing. Each
 * connection has its own token bucket, checked before parsing, so an adapter flooding
 * updates loses its own excess (told once a second) and never slows the others; state
 * rooms are coalesced downstream, so subscribers see the latest state either way.
 */
export type InternalFeedOptions = {
  ratePerSec: number;
  burst: number;
  /**
   * Bytes per second per connection (a second bucket, also checked before parsing): without
   * it an adapter within its message rate could still send 500 frames of 8 MB a second and
   * starve main's event loop with JSON parsing, stalling every other client's updates.
   */
  bytesPerSec?: number;
  bytesBurst?: number;
};
export const DEFAULT_INTERNAL_BYTES_PER_SEC = 8 * 1024 * 1024;
/** The largest frame /_internal accepts (ws maxPayload); the byte burst is never below it. */
export const INTERNAL_MAX_FRAME_BYTES = 8 * 1024 * 1024;

export const createInternalFeed = ({
  state,
  registry,
  log,
  ratePerSec,
  burst,
  bytesPerSec = DEFAULT_INTERNAL_BYTES_PER_SEC,
  bytesBurst = Math.max(2 * bytesPerSec, INTERNAL_MAX_FRAME_BYTES),
}: InternalFeedOptions & { state: RmfState; registry: Registry; log: pino.Logger }) => {
  const messages = new Counter({ name: "rmf_internal_messages_total", help: "Frames received on /_internal by type and outcome", labelNames: ["type", "outcome"] as const, registers: [registry] });
  const sockets = new Set<WebSocket>();
  for (const type of ["fleet_state_update", "fleet_log_update", "task_state_update", "task_log_update"]) messages.inc({ type, outcome: "ok" }, 0);

  const accept = (ws: WebSocket, peer: string) => {
    sockets.add(ws);
    const bucket = createTokenBucket({ ratePerSec, burst });
    const bytes = createTokenBucket({ ratePerSec: bytesPerSec, burst: bytesBurst });
    let dropped = 0;
    let lastNotice = 0;
    const notify = (notice: InternalNotice) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(notice));
    };
    ws.on("message", (data, isBinary) => {
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      const overCount = !bucket.take();
      if (overCount || !bytes.take(size)) {
        dropped += 1;
        messages.inc({ type: "unknown", outcome: "rate_limited" });
        const t = Date.now();
        if (t - lastNotice >= 1000) {
          lastNotice = t;
          const limit = overCount ? `${ratePerSec} messages/s` : `${bytesPerSec} bytes/s`;
          notify({ type: "error", error: `rate limited: more than ${limit}; excess dropped`, dropped });
          log.warn({ peer, dropped }, "fleet adapter over its message rate");
        }
        return;
      }
      if (isBinary) {
        messages.inc({ type: "unknown", outcome: "invalid" });
        return notify({ type: "error", error: "binary frames are not accepted; send JSON text" });
      }
      const parsed = parseInternalFrame(data.toString());
      if (!parsed.ok) {
        messages.inc({ type: "unknown", outcome: "invalid" });
        log.debug({ peer, error: parsed.error }, "rejected /_internal frame");
        return notify({ type: "error", error: parsed.error });
      }
      const { message } = parsed;
      messages.inc({ type: message.type, outcome: "ok" });
      switch (message.type) {
        case "fleet_state_update":
          return state.fleetState(message.data);
        case "fleet_log_update":
          return state.fleetLog(message.data);
        case "task_state_update":
          return state.taskState(message.data);
        case "task_log_update":
          return state.taskLog(message.data);
      }
    });
    ws.on("close", () => sockets.delete(ws));
    ws.on("error", () => {});
  };

  return {
    accept,
    connections: () => sockets.size,
    close: () => {
      for (const ws of sockets) ws.terminate();
    },
  };
};
