import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { viaUpstream } from "../../../errors";
import { scopeOf } from "../../../monitoring/regions";
import { procedure, router } from "../../init";
import { alarmsRouter } from "./alarms";
import { devicesRouter } from "./devices";
import { flagsRouter } from "./flags";
import { ZListRegionsResponseSchema } from "./monitoring.types";
import { sitesRouter } from "./sites";

export const monitoringRouter = router({
  /** The user's regions with sites, devices online and alarm counts per severity. */
  regions: procedure("monitoring.read")
    .output(ZListRegionsResponseSchema)
    .query(({ ctx }) => (ctx.user.regions.length ? viaUpstream(requireConnector("monitoring").client.regions(scopeOf(ctx.user))) : { items: [] })),
  sites: sitesRouter,
  devices: devicesRouter,
  alarms: alarmsRouter,
  flags: flagsRouter,
});
