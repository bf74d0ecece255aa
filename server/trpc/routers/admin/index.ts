import "server-only";
import { env } from "../../../env";
import { procedure, router } from "../../init";
import { ZListParticipantsResponseSchema, ZListRegionsResponseSchema } from "./admin.types";
import { usersRouter } from "./users";

export const adminRouter = router({
  users: usersRouter,
  participants: procedure("admin.users.read")
    .output(ZListParticipantsResponseSchema)
    .query(({ ctx }) => ctx.db.participant.findMany({ orderBy: { id: "asc" } })),
  regions: procedure("admin.users.read")
    .output(ZListRegionsResponseSchema)
    .query(() => env().MONITORING_REGIONS),
});
