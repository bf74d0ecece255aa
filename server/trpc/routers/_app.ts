import "server-only";
import { router } from "../init";
import { adminRouter } from "./admin";
import { auditRouter } from "./audit";
import { chargingRouter } from "./charging";
import { commandsRouter } from "./commands";
import { flexRouter } from "./flex";
import { healthRouter } from "./health";
import { meRouter } from "./me";
import { overviewRouter } from "./overview";
import { systemRouter } from "./system";

export const appRouter = router({
  me: meRouter,
  health: healthRouter,
  overview: overviewRouter,
  commands: commandsRouter,
  charging: chargingRouter,
  flex: flexRouter,
  system: systemRouter,
  audit: auditRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
