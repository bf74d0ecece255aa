import "server-only";
import { commandFeed } from "../../../commands/command-feed";
import { getCommand, ownCommandsOnly } from "../../../commands/get-command";
import { listCommands } from "../../../commands/list-commands";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZGetCommandRequestSchema, ZGetCommandResponseSchema, ZListCommandsRequestSchema, ZListCommandsResponseSchema } from "./commands.types";

export const commandsRouter = router({
  list: procedure("commands.read")
    .input(ZListCommandsRequestSchema)
    .output(ZListCommandsResponseSchema)
    .query(({ ctx, input: { cursor, limit, ...filter } }) => listCommands(ctx.db, { filter: { ...filter, actorId: ownCommandsOnly(ctx.user) }, cursor, limit })),

  get: procedure("commands.read")
    .input(ZGetCommandRequestSchema)
    .output(ZGetCommandResponseSchema)
    .query(({ ctx, input }) => getCommand(ctx.db, { id: input.id, user: ctx.user })),

  /** Live status of commands as they move from pending to their outcome. */
  onChange: liveProcedure("commands.read", commandFeed, {
    filter: ({ ctx }) => {
      const own = ownCommandsOnly(ctx.user);
      return own ? (c) => c.actorId === own : undefined;
    },
  }),
});
