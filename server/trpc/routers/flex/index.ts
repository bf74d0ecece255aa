import "server-only";
import { router } from "../../init";
import { activationsRouter } from "./activations";
import { bridgeRouter } from "./bridge";
import { marketRouter } from "./market";
import { requestsRouter } from "./requests";
import { settlementsRouter } from "./settlements";

export const flexRouter = router({
  market: marketRouter,
  requests: requestsRouter,
  activations: activationsRouter,
  settlements: settlementsRouter,
  bridge: bridgeRouter,
});
