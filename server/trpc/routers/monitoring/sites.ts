import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { viaUpstream } from "../../../errors";
import { maySee, requireRegion, scopeOf } from "../../../monitoring/regions";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZGetSiteRequestSchema, ZGetSiteResponseSchema, ZOnSitesChangeRequestSchema } from "./monitoring.types";

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
});
