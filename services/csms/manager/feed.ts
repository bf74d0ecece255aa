import { createTypedSseFeed, type TypedSseFeed } from "../../lib/sse-feed";

/**
 * The manager's live change feed on the services' SSE feed (`services/lib/sse-feed.ts`):
 * change events with ids `<epoch>.<seq>` from a ring buffer. A client resumes with
 * Last-Event-ID; when the id is from another epoch or older than the buffer, it first gets
 * `event: resync` and must re-fetch the snapshot.
 */

export type FeedEventType = "station" | "transaction" | "meter";

export type Feed = TypedSseFeed<FeedEventType>;

export const createFeed = ({ size = 10_000, pingMs = 15_000, maxBufferedBytes = 16 * 1024 * 1024 } = {}): Feed => createTypedSseFeed<FeedEventType>({ size, pingMs, maxBufferedBytes });
