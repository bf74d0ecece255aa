import type http from "node:http";
import type { FeedEventName } from "../../../contracts/monitoring";
import { createSseFeed } from "../../lib/sse-feed";

/**
 * The summary API's live feed (`GET /api/v1/events`) on the services' SSE feed
 * (`services/lib/sse-feed.ts`), like the CSMS manager's. Each event belongs to a region
 * (flags to all) and a client only ever receives its own regions' events, replays included.
 * A client resumes with Last-Event-ID; when the buffer cannot replay (another epoch, too old)
 * it first gets `event: resync` and must re-fetch `GET /api/v1/snapshot`.
 */
export const createFeed = ({ size = 20_000, pingMs = 15_000, maxBufferedBytes = 8 * 1024 * 1024 } = {}) => {
  const feed = createSseFeed<string>({ size, pingMs, maxBufferedBytes });
  return {
    epoch: feed.epoch,
    seq: feed.seq,
    publish: (event: FeedEventName, region: string | null, data: unknown) => feed.publish(event, data, region ?? undefined),
    serve: (req: http.IncomingMessage, res: http.ServerResponse, regions: string[], lastEventId: string | undefined) => {
      const allowed = new Set(regions);
      feed.serve(req, res, { lastEventId, sees: (region) => allowed.has(region) });
    },
    clients: feed.clients,
    close: feed.close,
  };
};
export type SummaryFeed = ReturnType<typeof createFeed>;
