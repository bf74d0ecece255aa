import "server-only";
import { upstreamHealth } from "../../../connectors/health";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import { ZListHealthResponseSchema } from "./health.types";

export const healthRouter = router({
  /** Each upstream connection: connected / reconnecting / down, and when it last spoke. */
  list: procedure("health.read")
    .output(ZListHealthResponseSchema)
    .query(() => upstreamHealth().list()),

  /** The same, live: a snapshot, then changes. */
  onChange: liveProcedure("health.read", () => upstreamHealth().feed),
});
