import "server-only";
import { ownCommandsOnly } from "../../../commands/get-command";
import { getOverview } from "../../../overview/get-overview";
import { procedure, router } from "../../init";
import { ZGetOverviewResponseSchema } from "./overview.types";

export const overviewRouter = router({
  summary: procedure("overview.read")
    .output(ZGetOverviewResponseSchema)
    .query(({ ctx }) => getOverview(ctx.db, { actorId: ownCommandsOnly(ctx.user) })),
});
