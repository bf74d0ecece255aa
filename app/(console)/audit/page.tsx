import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditView } from "./audit-view";

export const metadata: Metadata = { title: "Audit log" };

const AuditPage = () => (
  <Suspense>
    <AuditView />
  </Suspense>
);

export default AuditPage;
