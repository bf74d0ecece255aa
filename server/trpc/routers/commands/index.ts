import "server-only";
import { z } from "zod";
import { COMMAND_STATUSES, commandFeed } from "../../../commands/command-feed";
import { listCommands } from "../../../commands/list-commands";
import { env } from "../../../env";
import { AppError } from "../../../errors";
import { streamFeed } from "../../../live/stream";
import { liveSubscribers } from "../../../metrics";
import { procedure, requireUser, router, type SessionUser } from "../../init";
import { ZLiveInput } from "../live-input";
import { toCommandView } from "../../../commands/command-feed";

// Traders see only their own commands; everyone else with commands.read sees all.
const ownOnly = (user: SessionUser) => (user.role === "trader" ? user.id : undefined);

export const commandsRouter = router({
  list: procedure("commands.read")
    .input(
      z.object({
        domain: z.string().max(40).optional(),
        status: z.enum(COMMAND_STATUSES).optional(),
        target: z.string().max(200).optional(),
        cursor: z.uuid().nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input: { cursor, limit, ...filter } }) =>
      listCommands(ctx.db, { filter: { ...filter, actorId: ownOnly(requireUser(ctx)) }, cursor, limit }),
    ),

  get: procedure("commands.read")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const user = requireUser(ctx);
      const row = await ctx.db.command.findUnique({ where: { id: input.id } });
      if (!row || (ownOnly(user) && row.actorId !== user.id)) throw new AppError("NOT_FOUND", "No such command.");
      return toCommandView(row);
    }),

  /** Live status of commands as they move from pending to their outcome. */
  onChange: procedure("commands.read")
    .input(ZLiveInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const own = ownOnly(requireUser(ctx));
      const feed = commandFeed();
      liveSubscribers().inc({ feed: feed.name });
      try {
        yield* streamFeed(feed, {
          lastEventId: input?.lastEventId,
          signal,
          batchMs: env().LIVE_BATCH_MS,
          filter: own ? (c) => c.actorId === own : undefined,
        });
      } finally {
        liveSubscribers().dec({ feed: feed.name });
      }
    }),
});
