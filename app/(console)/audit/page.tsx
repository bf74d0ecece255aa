import type { Metadata } from "next";
import { headers } from "next/headers";
import { auth } from "@/server/auth";
import { Guarded } from "../_components/ui/no-access";
import { AuditView } from "./audit-view";

export const metadata: Metadata = { title: "Audit log" };

/** Checked on the server: a role without audit.read gets the no-access page, never the view. */
const AuditPage = async () => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="audit.read" what="the audit log">
    <AuditView />
  </Guarded>
);

export default AuditPage;
