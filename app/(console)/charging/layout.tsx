import { headers } from "next/headers";
import type { ReactNode } from "react";
import { auth } from "@/server/auth";
import { Guarded } from "../_components/ui/no-access";

/**
 * Every charging page needs charging.read, so the section checks it once, on the server: a
 * role without it (traders) gets the no-access page for any charging URL, never a spinner.
 */
const ChargingLayout = async ({ children }: { children: ReactNode }) => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="charging.read" what="charging">
    {children}
  </Guarded>
);

export default ChargingLayout;
