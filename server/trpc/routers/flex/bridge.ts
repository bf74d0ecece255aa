import "server-only";
import { evBridges, evBridgeStore, startStationBridge, stopStationBridge } from "../../../flex/ev-bridge";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZBridgeStatus, ZListBridgesResponseSchema, ZStartBridgeRequestSchema, ZStopBridgeRequestSchema } from "./bridge.types";

const station = (input: unknown) => (input as { stationId?: string } | undefined)?.stationId;

export const bridgeRouter = router({
  /** Charge stations bridged into the flex market, with what each did. */
  list: procedure("flex.read")
    .output(ZListBridgesResponseSchema)
    .query(() => [...evBridges().values()].map((b) => b.status())),

  /** The same, live: a snapshot, then each bridge's status every telemetry tick (2 s). */
  onChange: liveProcedure("flex.read", () => evBridgeStore().feed),

  /** An operator brings a charge station into the market as an EV-charger device. */
  start: procedure("flex.bridge", { auditTarget: station })
    .input(ZStartBridgeRequestSchema)
    .output(ZBridgeStatus)
    .mutation(({ ctx, input }) => startStationBridge({ db: ctx.db, actor: { id: ctx.user.id, email: ctx.user.email, role: ctx.user.role }, ...input })),

  stop: procedure("flex.bridge", { auditTarget: station })
    .input(ZStopBridgeRequestSchema)
    .output(ZBridgeStatus)
    .mutation(({ ctx, input }) => stopStationBridge(input.stationId, ctx.db)),
});
