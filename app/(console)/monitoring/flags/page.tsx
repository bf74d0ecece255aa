import type { Metadata } from "next";
import { headers } from "next/headers";
import { auth } from "@/server/auth";
import { Guarded } from "../../_components/ui/no-access";
import { FlagsView } from "./flags-view";

export const metadata: Metadata = { title: "Feature flags" };

// Beyond monitoring.read (the layout): switching the service's flags is for admins.
const FlagsPage = async () => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="monitoring.admin" what="monitoring feature flags">
    <FlagsView />
  </Guarded>
);

export default FlagsPage;
