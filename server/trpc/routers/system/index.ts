import "server-only";
import { submitSitePing } from "../../../system/ping-site";
import { procedure, router } from "../../init";
import { ZPingSiteRequestSchema, ZPingSiteResponseSchema } from "./system.types";

export const systemRouter = router({
  /** A ping to the site process through the command path (a real round trip over MQTT). */
  pingSite: procedure("system.ping", { auditTarget: () => "site" })
    .input(ZPingSiteRequestSchema)
    .output(ZPingSiteResponseSchema)
    .mutation(({ ctx, input }) => submitSitePing({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, idempotencyKey: input.idempotencyKey })),
});
