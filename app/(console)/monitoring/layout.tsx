import { headers } from "next/headers";
import type { ReactNode } from "react";
import { auth } from "@/server/auth";
import { Guarded } from "../_components/ui/no-access";

/**
 * Every monitoring page needs monitoring.read, checked once on the server: a role without it
 * (traders) gets the no-access page for any monitoring URL. Which regions a user sees is
 * decided per request by the routers (server/monitoring/regions.ts).
 */
const MonitoringLayout = async ({ children }: { children: ReactNode }) => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="monitoring.read" what="monitoring">
    {children}
  </Guarded>
);

export default MonitoringLayout;
