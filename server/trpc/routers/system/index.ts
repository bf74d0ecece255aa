import "server-only";
import { z } from "zod";
import { submitCommand } from "../../../commands/submit-command";
import { connectors } from "../../../connectors";
import { pingSite } from "../../../connectors/mqtt/ping-site";
import { procedure, requireUser, router } from "../../init";

export const systemRouter = router({
  /**
   * A control action that goes all the way through the command path: a ping to the site
   * process over MQTT, answered by the site. It proves the command plumbing end to end.
   */
  pingSite: procedure("system.ping", { auditTarget: () => "site" })
    .input(z.object({ idempotencyKey: z.string().min(8).max(100) }))
    .mutation(async ({ ctx, input }) => {
      const user = requireUser(ctx);
      const { command, duplicate } = await submitCommand({
        db: ctx.db,
        actor: user,
        traceId: ctx.traceId,
        idempotencyKey: input.idempotencyKey,
        domain: "system",
        target: "site",
        action: "ping",
        payload: {},
        timeoutMs: 5000,
        send: async (cmd, signal) => {
          const link = connectors()?.broker;
          if (!link) throw new Error("the console has no MQTT connection");
          return pingSite(link.client, cmd.id, signal);
        },
      });
      return { command, duplicate };
    }),
});
