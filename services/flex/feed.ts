import type http from "node:http";
import type { FeedEventType } from "../../contracts/flex/api";
import { createSseFeed, sseFrame } from "../lib/sse-feed";

/**
 * The node's live feed for the console (GET /api/v1/events) on the services' SSE feed
 * (`services/lib/sse-feed.ts`): a client resuming with a Last-Event-ID the buffer still
 * covers gets exactly the missed events; any other client first gets `snapshot` (the current
 * state, id = the newest event) and then every event after it.
 */
export type LiveFeed = {
  epoch: string;
  seq: () => number;
  publish: (type: Exclude<FeedEventType, "snapshot" | "resync">, data: unknown) => void;
  serve: (req: http.IncomingMessage, res: http.ServerResponse, lastEventId: string | undefined) => void;
  clients: () => number;
  close: () => void;
};

export const createLiveFeed = ({ snapshot, size = 20_000, pingMs = 15_000, maxBufferedBytes = 8 * 1024 * 1024 }: { snapshot: () => unknown; size?: number; pingMs?: number; maxBufferedBytes?: number }): LiveFeed => {
  const feed = createSseFeed({ size, pingMs, maxBufferedBytes, onGap: (write, { id }) => write(sseFrame(id, "snapshot", snapshot())) });
  return {
    epoch: feed.epoch,
    seq: feed.seq,
    publish: (type, data) => feed.publish(type, data),
    serve: (req, res, lastEventId) => feed.serve(req, res, { lastEventId }),
    clients: feed.clients,
    close: feed.close,
  };
};
