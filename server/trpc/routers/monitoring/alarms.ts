import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { actOnAlarm } from "../../../monitoring/alarm-action";
import { listAlarms } from "../../../monitoring/list-alarms";
import { maySee } from "../../../monitoring/regions";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZSubmitCommandResponseSchema } from "../commands/commands.types";
import { ZAlarmActionRequestSchema, ZListAlarmsRequestSchema, ZListAlarmsResponseSchema, ZOnAlarmsChangeRequestSchema } from "./monitoring.types";

const target = (input: unknown) => (input as { alarmId?: string } | undefined)?.alarmId;

export const alarmsRouter = router({
  /** Alarms of the user's regions (or one), newest first, keyset-paged, by status, site, device and severity. */
  list: procedure("monitoring.read")
    .input(ZListAlarmsRequestSchema)
    .output(ZListAlarmsResponseSchema)
    .query(({ ctx, input }) => listAlarms(ctx.user, input)),

  /** The active alarms of the user's regions, live (raised, escalated, acknowledged; a cleared one is removed). */
  onChange: liveProcedure("monitoring.read", () => requireConnector("monitoring").store.alarms.feed, {
    input: ZOnAlarmsChangeRequestSchema,
    filter:
      ({ ctx, input }) =>
      (a) =>
        maySee(ctx.user, a.region) && (!input?.region || a.region === input.region) && (!input?.site || a.site === input.site) && (!input?.device || a.device === input.device),
  }),

  /** Acknowledges one alarm as the signed-in user, with an optional comment; answers with the command and its outcome. */
  acknowledge: procedure("monitoring.command", { auditTarget: target })
    .input(ZAlarmActionRequestSchema)
    .output(ZSubmitCommandResponseSchema)
    .mutation(({ ctx, input }) => actOnAlarm({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, action: "acknowledge", ...input })),

  /** Clears one active alarm as the signed-in user; if its condition returns, that is a new alarm. */
  clear: procedure("monitoring.command", { auditTarget: target })
    .input(ZAlarmActionRequestSchema)
    .output(ZSubmitCommandResponseSchema)
    .mutation(({ ctx, input }) => actOnAlarm({ db: ctx.db, user: ctx.user, traceId: ctx.traceId, action: "clear", ...input })),
});
