import "server-only";
import { z } from "zod";
import { ZCommandSpec, ZStationId } from "../../../../contracts/csms/commands";
import { csmsLink, currentStore, withCsms } from "../../../charging/csms-access";
import { exportMessagesCsv } from "../../../charging/export-messages-csv";
import { computeKpis } from "../../../../contracts/csms/kpis";
import { sendBulkCommand } from "../../../charging/send-bulk-command";
import { ensureStation, requireConfirmation, sendChargingCommand } from "../../../charging/send-command";
import { matchesStationFilter } from "../../../../contracts/csms/station-filter";
import { connectors } from "../../../connectors";
import { TOKEN_STATUSES } from "../../../../contracts/csms/api";
import { env } from "../../../env";
import { AppError } from "../../../errors";
import { streamFeed } from "../../../live/stream";
import { liveSubscribers } from "../../../metrics";
import { procedure, requireUser, router } from "../../init";

const ZLastEventId = z.string().max(100).nullish();
const ZCursor = z.string().max(200).nullish();
const ZIdempotencyKey = z.string().min(8).max(100);
const ZIdTag = z.string().trim().min(1, "required").max(36);
const ZTokenStatus = z.enum(TOKEN_STATUSES);

export const ZStationFilter = z.object({
  q: z.string().max(48).optional(),
  online: z.boolean().optional(),
  protocol: z.enum(["ocpp1.6", "ocpp2.0.1"]).optional(),
  status: z.string().max(20).optional(),
});

export const MAX_BULK_STATIONS = 5000;

const ZSendCommand = ZCommandSpec.and(z.object({ stationId: ZStationId, idempotencyKey: ZIdempotencyKey, confirm: z.boolean().optional() }));

const ZSendBulk = ZCommandSpec.and(
  z.object({
    stationIds: z.array(ZStationId).min(1, "pick at least one station").max(MAX_BULK_STATIONS, `at most ${MAX_BULK_STATIONS} stations per bulk command`).optional(),
    filter: ZStationFilter.optional(),
    idempotencyKey: ZIdempotencyKey,
    confirm: z.boolean().optional(),
  }),
).superRefine((v, ctx) => {
  if (!v.stationIds === !v.filter) ctx.addIssue({ code: "custom", path: ["stationIds"], message: "give either stationIds or a filter" });
});

/** Live subscriptions share this: count the subscriber, stream the feed, uncount. */
async function* live<T>(feed: Parameters<typeof streamFeed<T>>[0], options: Parameters<typeof streamFeed<T>>[1]) {
  liveSubscribers().inc({ feed: feed.name });
  try {
    yield* streamFeed(feed, { batchMs: env().LIVE_BATCH_MS, ...options });
  } finally {
    liveSubscribers().dec({ feed: feed.name });
  }
}

const stationsRouter = router({
  /**
   * Every station, live: a snapshot, then coalesced changes. The browser filters (50k rows
   * fit in memory); with `stationId` only that station is streamed (the station page).
   */
  onChange: procedure("charging.read")
    .input(z.object({ lastEventId: ZLastEventId, stationId: ZStationId.optional() }).optional())
    .subscription(({ input, signal }) => {
      const id = input?.stationId;
      return live(currentStore().feed, { lastEventId: input?.lastEventId, signal, filter: id ? (s) => s.id === id : undefined });
    }),

  /** The latest meter reading per connector of one station, live (for the station page's charts). */
  onMeter: procedure("charging.read")
    .input(z.object({ lastEventId: ZLastEventId, stationId: ZStationId }))
    .subscription(({ input, signal }) => live(currentStore().meterFeed, { lastEventId: input.lastEventId, signal, filter: (m) => m.stationId === input.stationId })),

  get: procedure("charging.read")
    .input(z.object({ stationId: ZStationId }))
    .query(({ input }) => withCsms((c) => c.getStation(input.stationId), `Station ${input.stationId}`)),

  messages: procedure("charging.read")
    .input(z.object({ stationId: ZStationId, cursor: ZCursor, limit: z.number().int().min(1).max(500).default(50) }))
    .query(({ input }) => withCsms((c) => c.messages(input.stationId, { cursor: input.cursor, limit: input.limit }), `Station ${input.stationId}`)),

  /** The message log (newest first, up to `limit` rows) as CSV text, for the browser to download. */
  messagesCsv: procedure("charging.read")
    .input(z.object({ stationId: ZStationId, limit: z.number().int().min(1).max(50_000).default(10_000) }))
    .query(({ input }) => withCsms((c) => exportMessagesCsv(c, input.stationId, input.limit), `Station ${input.stationId}`)),
});

const transactionsRouter = router({
  list: procedure("charging.read")
    .input(z.object({ stationId: ZStationId.optional(), active: z.boolean().optional(), cursor: ZCursor, limit: z.number().int().min(1).max(200).default(50) }))
    .query(({ input }) => withCsms((c) => c.listTransactions(input))),

  /** One transaction with its meter samples (power, energy, SoC over time). */
  get: procedure("charging.read")
    .input(z.object({ id: z.string().min(1).max(64) }))
    .query(({ input }) => withCsms((c) => c.getTransaction(input.id), `Transaction ${input.id}`)),
});

const auditIdTag = (input: unknown) => (input as { idTag?: string } | undefined)?.idTag;

// Authorization tokens are managed by support (and admins): writing them is charging.command.
const tokensRouter = router({
  list: procedure("charging.read")
    .input(z.object({ q: z.string().max(36).optional(), cursor: ZCursor, limit: z.number().int().min(1).max(200).default(50) }))
    .query(({ input }) => withCsms((c) => c.listTokens(input))),

  create: procedure("charging.command", { auditTarget: auditIdTag })
    .input(z.object({ idTag: ZIdTag, status: ZTokenStatus.default("Accepted"), expiresAt: z.date().nullish(), note: z.string().max(200).nullish() }))
    .mutation(({ input }) => withCsms((c) => c.createToken({ ...input, expiresAt: input.expiresAt?.toISOString() ?? null }), `Token ${input.idTag}`)),

  update: procedure("charging.command", { auditTarget: auditIdTag })
    .input(z.object({ idTag: ZIdTag, status: ZTokenStatus.optional(), expiresAt: z.date().nullish(), note: z.string().max(200).nullish() }))
    .mutation(({ input: { idTag, expiresAt, ...rest } }) =>
      withCsms((c) => c.updateToken(idTag, { ...rest, ...(expiresAt !== undefined ? { expiresAt: expiresAt?.toISOString() ?? null } : {}) }), `Token ${idTag}`),
    ),

  delete: procedure("charging.command", { auditTarget: auditIdTag })
    .input(z.object({ idTag: ZIdTag }))
    .mutation(async ({ input }) => {
      await withCsms((c) => c.deleteToken(input.idTag), `Token ${input.idTag}`);
      return { idTag: input.idTag };
    }),
});

const commandsRouter = router({
  /**
   * One command to one station through the command path; answers once it is sent, and
   * the outcome arrives on commands.onChange. A hard reset needs `confirm: true`.
   */
  send: procedure("charging.command", { auditTarget: (input) => (input as { stationId?: string } | undefined)?.stationId })
    .input(ZSendCommand)
    .mutation(async ({ ctx, input }) => {
      const user = requireUser(ctx);
      const { stationId, idempotencyKey, confirm, ...spec } = input;
      requireConfirmation(spec, confirm);
      const link = csmsLink();
      await ensureStation(link, stationId);
      return sendChargingCommand({ db: ctx.db, actor: user, traceId: ctx.traceId, link, stationId, spec, idempotencyKey, timeoutMs: env().CSMS_COMMAND_TIMEOUT_MS });
    }),

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
    .input(ZSendBulk)
    .mutation(async ({ ctx, input }) => {
      const user = requireUser(ctx);
      const { stationIds, filter, idempotencyKey, confirm, ...spec } = input;
      requireConfirmation(spec, confirm);
      const link = csmsLink();
      const ids = stationIds ?? [...link.store.stations.values()].filter((s) => matchesStationFilter(s, filter!)).map((s) => s.id).sort();
      if (ids.length === 0) throw new AppError("BAD_REQUEST", "No station matches this filter.", "filter");
      if (ids.length > MAX_BULK_STATIONS) throw new AppError("BAD_REQUEST", `${ids.length} stations match; narrow the filter to at most ${MAX_BULK_STATIONS}.`, "filter");
      return sendBulkCommand({ db: ctx.db, actor: user, traceId: ctx.traceId, link, stationIds: ids, spec, idempotencyKey, timeoutMs: env().CSMS_COMMAND_TIMEOUT_MS });
    }),
});

export const chargingRouter = router({
  /** Fleet figures for the KPI tiles, from the live view; `link` says how fresh they are. */
  kpis: procedure("charging.read").query(() => {
    const view = connectors()?.csms;
    return { ...computeKpis(currentStore().stations.values()), link: view?.link() ?? null, synced: view?.status().synced ?? false };
  }),
  stations: stationsRouter,
  transactions: transactionsRouter,
  tokens: tokensRouter,
  commands: commandsRouter,
});
