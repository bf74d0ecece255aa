import "server-only";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { Feed } from "../../lib/feed";
import { env } from "../env";
import { streamFeed } from "../live/stream";
import { liveSubscribers } from "../metrics";
import { procedure, type SignedInContext, type SignedInPermission } from "./init";
import { sessionEndedMessage, watchSession } from "./watch-session";

/** What every live subscription's input extends; tRPC fills `lastEventId` when a browser reconnects. */
export const ZLiveInput = z.object({ lastEventId: z.string().max(100).nullish() });
const ZNoInput = ZLiveInput.optional();

type LiveArgs<I> = { ctx: SignedInContext; input: I };

export type LiveProcedureOptions<T, S extends z.ZodType> = {
  /** The one input schema: `ZLiveInput.extend({ … })` (add `.optional()` when every field is). Default: `lastEventId` only. */
  input?: S;
  /** Which items this subscriber may see (undefined: all of them). */
  filter?: (args: LiveArgs<z.output<S>>) => ((item: T) => boolean) | undefined;
  /** The coalescing window for this feed (default LIVE_BATCH_MS); shorter for positions the browser must draw at their own rate. */
  batchMs?: number;
};

/**
 * A live subscription on a feed: permission-checked like every procedure, then a snapshot
 * (or an exact replay since `lastEventId`) and coalesced changes (server/live/stream.ts),
 * counted in `switchyard_live_subscribers`. The stream lives no longer than its session:
 * a change announced for its user ends it at once, and a re-check every
 * LIVE_SESSION_RECHECK_MS (≤ 30 s) catches the rest; it then ends with UNAUTHORIZED, and
 * the browser goes to sign-in keeping the page it was on.
 */
export const liveProcedure = <T, S extends z.ZodType<z.output<typeof ZNoInput>> = typeof ZNoInput>(
  permission: SignedInPermission,
  source: Feed<T> | ((args: LiveArgs<z.output<S>>) => Feed<T>),
  { input, filter, batchMs }: LiveProcedureOptions<T, S> = {},
) =>
  procedure(permission)
    // Without an input of its own the subscription takes the bare `lastEventId` input.
    .input((input ?? ZNoInput) as S)
    .subscription(async function* ({ ctx, input: parsed, signal }) {
      const args: LiveArgs<z.output<S>> = { ctx, input: parsed as z.output<S> };
      const feed = typeof source === "function" ? source(args) : source;
      const watch = watchSession({ db: ctx.db, user: ctx.user, sessionId: ctx.sessionId, signal, recheckMs: env().LIVE_SESSION_RECHECK_MS });
      liveSubscribers().inc({ feed: feed.name });
      try {
        yield* streamFeed(feed, { lastEventId: args.input?.lastEventId, signal: watch.signal, batchMs: batchMs ?? env().LIVE_BATCH_MS, filter: filter?.(args) });
        const ended = watch.ended();
        if (ended) throw new TRPCError({ code: "UNAUTHORIZED", message: sessionEndedMessage(ended) });
      } finally {
        watch.stop();
        liveSubscribers().dec({ feed: feed.name });
      }
    });
