import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { viaUpstream } from "../../../errors";
import { scopeOf } from "../../../monitoring/regions";
import { setFlag } from "../../../monitoring/set-flag";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZSubmitCommandResponseSchema } from "../commands/commands.types";
import { FLAG_CATALOGUE, ZFlagsResponseSchema, ZSetFlagRequestSchema } from "./monitoring.types";

export const flagsRouter = router({
  /** The service's feature flags (the last `system.feature` message) and what each one does. */
  get: procedure("monitoring.admin")
    .output(ZFlagsResponseSchema)
    .query(async ({ ctx }) => ({ message: await viaUpstream(requireConnector("monitoring").client.flags(scopeOf(ctx.user))), catalogue: FLAG_CATALOGUE })),

  /** The flags, live (a change by anyone, anywhere, arrives here). */
  onChange: liveProcedure("monitoring.admin", () => requireConnector("monitoring").store.flags.feed),

  /** Switches one flag; every consumer of the service applies it live. Command row + audit. */
  set: procedure("monitoring.admin", { auditTarget: (input) => `flag:${String((input as { name?: unknown } | undefined)?.name ?? "")}` })
    .input(ZSetFlagRequestSchema)
    .output(ZSubmitCommandResponseSchema)
    .mutation(({ ctx, input }) => setFlag({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, ...input })),
});
