import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { viaUpstream } from "../../../errors";
import { maySee, requireRegion, scopeOf } from "../../../monitoring/regions";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { formatEpoch } from "../../../../contracts/monitoring";
import { ENERGY_WINDOWS, ZGetSiteRequestSchema, ZGetSiteResponseSchema, ZOnSitesChangeRequestSchema, ZSiteEnergyRequestSchema, ZSiteEnergyResponseSchema } from "./monitoring.types";

export const sitesRouter = router({
  /** Sites of the user's regions with devices online and alarm counts, live; `region` / `site` narrow it. */
  onChange: liveProcedure("monitoring.read", () => requireConnector("monitoring").store.sites.feed, {
    input: ZOnSitesChangeRequestSchema,
    filter:
      ({ ctx, input }) =>
      (s) =>
        maySee(ctx.user, s.region) && (!input?.region || s.region === input.region) && (!input?.site || s.id === input.site),
  }),

  /** One site and its devices (latest values); NOT_FOUND for an unknown site or one outside the user's regions. */
  get: procedure("monitoring.read")
    .input(ZGetSiteRequestSchema)
    .output(ZGetSiteResponseSchema)
    .query(({ ctx, input }) => {
      const what = `Site ${input.site.slice(0, 60)}`;
      requireRegion(ctx.user, input.region, what);
      return viaUpstream(requireConnector("monitoring").client.site(scopeOf(ctx.user), input.region, input.site), what);
    }),

  /** Energy of one site per hour (last 6) or per day (last 7), in MJ per flow, from the rollups (UTC periods). */
  energy: procedure("monitoring.read")
    .input(ZSiteEnergyRequestSchema)
    .output(ZSiteEnergyResponseSchema)
    .query(({ ctx, input }) => {
      const what = `Site ${input.site.slice(0, 60)}`;
      requireRegion(ctx.user, input.region, what);
      const { count, ms } = ENERGY_WINDOWS[input.period];
      const epoch = formatEpoch(Date.now() - (count - 1) * ms, 0);
      return viaUpstream(requireConnector("monitoring").client.energy(scopeOf(ctx.user), input.region, input.site, { energy: "hsy", period: input.period, epoch, duration: count }), what);
    }),
});
