import { headers } from "next/headers";
import type { ReactNode } from "react";
import { auth } from "@/server/auth";
import { Guarded } from "../_components/ui/no-access";
import { AlertPopups } from "./_components/alert-popups";
import { RobotsSiteProvider } from "./_components/robots-site";

/**
 * Every robots page needs robots.read, so the section checks it once, on the server (traders
 * get the no-access page for any robots URL); alerts pop up on every robots page.
 */
const RobotsLayout = async ({ children }: { children: ReactNode }) => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="robots.read" what="robots">
    <RobotsSiteProvider>
      {children}
      <AlertPopups />
    </RobotsSiteProvider>
  </Guarded>
);

export default RobotsLayout;
