import "server-only";
import { upstreamHealth } from "../../../connectors/health";
import { env } from "../../../env";
import { streamFeed } from "../../../live/stream";
import { liveSubscribers } from "../../../metrics";
import { procedure, router } from "../../init";
import { ZLiveInput } from "../live-input";

export const healthRouter = router({
  /** Each upstream connection: connected / reconnecting / down, and when it last spoke. */
  list: procedure("health.read").query(() => upstreamHealth().list()),

  /** The same, live: a snapshot, then changes. */
  onChange: procedure("health.read")
    .input(ZLiveInput)
    .subscription(async function* ({ input, signal }) {
      const feed = upstreamHealth().feed;
      liveSubscribers().inc({ feed: feed.name });
      try {
        yield* streamFeed(feed, { lastEventId: input?.lastEventId, signal, batchMs: env().LIVE_BATCH_MS });
      } finally {
        liveSubscribers().dec({ feed: feed.name });
      }
    }),
});
