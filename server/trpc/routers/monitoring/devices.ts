import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { viaUpstream } from "../../../errors";
import { maySee, requireRegion, scopeOf } from "../../../monitoring/regions";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZGetDeviceRequestSchema, ZGetDeviceResponseSchema, ZOnDevicesChangeRequestSchema, ZSeriesRequestSchema, ZSeriesResponseSchema } from "./monitoring.types";

export const devicesRouter = router({
  /** Devices of one region (narrowed to a site or one device), live with their latest values; nothing outside the user's regions. */
  onChange: liveProcedure("monitoring.read", () => requireConnector("monitoring").store.devices.feed, {
    input: ZOnDevicesChangeRequestSchema,
    filter:
      ({ ctx, input }) =>
      (d) =>
        maySee(ctx.user, d.region) && d.region === input.region && (!input.site || d.site === input.site) && (!input.device || d.id === input.device),
  }),

  /** One device: latest values, the metrics it reports, its active alarms. */
  get: procedure("monitoring.read")
    .input(ZGetDeviceRequestSchema)
    .output(ZGetDeviceResponseSchema)
    .query(({ ctx, input }) => {
      const what = `Device ${input.device.slice(0, 80)}`;
      requireRegion(ctx.user, input.region, what);
      return viaUpstream(requireConnector("monitoring").client.device(scopeOf(ctx.user), input.region, input.device), what);
    }),

  /**
   * Rollups of any metrics of one device over a range: count, avg, min, max per point, at
   * most `width` points (the service picks the 1 min / 1 h / 1 day rollup and merges
   * buckets to fit, and includes the still-open bucket). Never raw rows.
   */
  series: procedure("monitoring.read")
    .input(ZSeriesRequestSchema)
    .output(ZSeriesResponseSchema)
    .query(({ ctx, input }) => {
      const what = `Device ${input.device.slice(0, 80)}`;
      requireRegion(ctx.user, input.region, what);
      return viaUpstream(requireConnector("monitoring").client.series(scopeOf(ctx.user), input.region, input.device, input), what);
    }),
});
