import { headers } from "next/headers";
import type { ReactNode } from "react";
import { auth } from "@/server/auth";
import { Guarded } from "../_components/ui/no-access";

/** Every flex page needs flex.read, so the section checks it once, on the server. */
const FlexLayout = async ({ children }: { children: ReactNode }) => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="flex.read" what="the flex market">
    {children}
  </Guarded>
);

export default FlexLayout;
