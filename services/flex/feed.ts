import type { FeedEventType } from "../../contracts/flex/api";
import { createTypedSseFeed, sseFrame, type TypedSseFeed } from "../lib/sse-feed";

/**
 * The node's live feed for the console (GET /api/v1/events) on the services' SSE feed
 * (`services/lib/sse-feed.ts`): a client resuming with a Last-Event-ID the buffer still
 * covers gets exactly the missed events; any other client first gets `snapshot` (the current
 * state, id = the newest event) and then every event after it.
 */
export type LiveFeed = TypedSseFeed<Exclude<FeedEventType, "snapshot" | "resync">>;

export const createLiveFeed = ({ snapshot, size = 20_000, pingMs = 15_000, maxBufferedBytes = 8 * 1024 * 1024 }: { snapshot: () => unknown; size?: number; pingMs?: number; maxBufferedBytes?: number }): LiveFeed =>
  createTypedSseFeed({ size, pingMs, maxBufferedBytes, onGap: (write, { id }) => write(sseFrame(id, "snapshot", snapshot())) });
