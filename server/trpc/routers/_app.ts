import "server-only";
import { router } from "../init";
import { adminRouter } from "./admin";
import { auditRouter } from "./audit";
import { chargingRouter } from "./charging";
import { commandsRouter } from "./commands";
import { flexRouter } from "./flex";
import { healthRouter } from "./health";
import { meRouter } from "./me";
import { monitoringRouter } from "./monitoring";
import { overviewRouter } from "./overview";
import { robotsRouter } from "./robots";
import { systemRouter } from "./system";

export const appRouter = router({
  me: meRouter,
  health: healthRouter,
  overview: overviewRouter,
  commands: commandsRouter,
  charging: chargingRouter,
  monitoring: monitoringRouter,
  robots: robotsRouter,
  flex: flexRouter,
  system: systemRouter,
  audit: auditRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
