import type http from "node:http";
import { createSseFeed } from "../../lib/sse-feed";

/**
 * The manager's live change feed on the services' SSE feed (`services/lib/sse-feed.ts`):
 * change events with ids `<epoch>.<seq>` from a ring buffer. A client resumes with
 * Last-Event-ID; when the id is from another epoch or older than the buffer, it first gets
 * `event: resync` and must re-fetch the snapshot.
 */

export type FeedEventType = "station" | "transaction" | "meter";

export type Feed = {
  epoch: string;
  /** The seq of the newest event (0 before the first). */
  seq: () => number;
  publish: (type: FeedEventType, data: unknown) => void;
  /** Serves one SSE client until it disconnects. */
  serve: (req: http.IncomingMessage, res: http.ServerResponse, lastEventId: string | undefined) => void;
  clients: () => number;
  close: () => void;
};

export const createFeed = ({ size = 10_000, pingMs = 15_000, maxBufferedBytes = 16 * 1024 * 1024 } = {}): Feed => {
  const feed = createSseFeed({ size, pingMs, maxBufferedBytes });
  return {
    epoch: feed.epoch,
    seq: feed.seq,
    publish: (type, data) => feed.publish(type, data),
    serve: (req, res, lastEventId) => feed.serve(req, res, { lastEventId }),
    clients: feed.clients,
    close: feed.close,
  };
};
