import "server-only";
import { sendBulkCommand } from "../../../charging/send-bulk-command";
import { sendCommand } from "../../../charging/send-command";
import { procedure, router } from "../../init";
import { ZSendBulkCommandRequestSchema, ZSendBulkCommandResponseSchema, ZSendCommandRequestSchema, ZSendCommandResponseSchema } from "./commands.types";

export const commandsRouter = router({
  /**
   * One command to one station through the command path; answers once it is sent, and
   * the outcome arrives on commands.onChange. A hard reset needs `confirm: true`.
   */
  send: procedure("charging.command", { auditTarget: (input) => (input as { stationId?: string } | undefined)?.stationId })
    .input(ZSendCommandRequestSchema)
    .output(ZSendCommandResponseSchema)
    .mutation(({ ctx, input: { stationId, idempotencyKey, confirm, ...spec } }) => sendCommand({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, stationId, spec, idempotencyKey, confirm })),

  /**
   * The same command to many stations (a list, or everything matching a filter in the live
   * view): one Command each, answered with their ids at once, delivered 20 at a time.
   */
  sendBulk: procedure("charging.command", {
    auditTarget: (input) => {
      const ids = (input as { stationIds?: string[] } | undefined)?.stationIds;
      return ids ? `${ids.length} stations` : "stations by filter";
    },
  })
    .input(ZSendBulkCommandRequestSchema)
    .output(ZSendBulkCommandResponseSchema)
    .mutation(({ ctx, input: { stationIds, filter, idempotencyKey, confirm, ...spec } }) =>
      sendBulkCommand({ db: ctx.db, actor: ctx.user, traceId: ctx.traceId, stationIds, filter, spec, idempotencyKey, confirm }),
    ),
});
