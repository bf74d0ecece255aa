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
export type InternalFeedOptions = { ratePerSec: number; burst: number };

export const createInternalFeed = ({ state, registry, log, ratePerSec, burst }: InternalFeedOptions & { state: RmfState; registry: Registry; log: pino.Logger }) => {
  const messages = new Counter({ name: "rmf_internal_messages_total", help: "Frames received on /_internal by type and outcome", labelNames: ["type", "outcome"] as const, registers: [registry] });
  const sockets = new Set<WebSocket>();
  for (const type of ["fleet_state_update", "fleet_log_update", "task_state_update", "task_log_update"]) messages.inc({ type, outcome: "ok" }, 0);

  const accept = (ws: WebSocket, peer: string) => {
    sockets.add(ws);
    const bucket = createTokenBucket({ ratePerSec, burst });
    let dropped = 0;
    let lastNotice = 0;
    const notify = (notice: InternalNotice) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(notice));
    };
    ws.on("message", (data, isBinary) => {
      if (!bucket.take()) {
        dropped += 1;
        messages.inc({ type: "unknown", outcome: "rate_limited" });
        const t = Date.now();
        if (t - lastNotice >= 1000) {
          lastNotice = t;
          notify({ type: "error", error: `rate limited: more than ${ratePerSec} messages/s; excess dropped`, dropped });
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
