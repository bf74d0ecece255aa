import { Suspense, type ReactNode } from "react";
import { can, isRole, ROLE_LABELS, type Permission } from "@/contracts/console/permissions";

/**
 * What a role that may not read a page sees instead of it: a heading and one sentence
 * saying what it cannot see and whom to ask. Never a spinner, never a permission code.
 */
export const NoAccess = ({ role, what }: { role: string | null | undefined; what: string }) => (
  <div className="no-access" data-testid="no-access">
    <h1>You don&apos;t have access to {what}</h1>
    <p>
      Your role{isRole(role) ? ` (${ROLE_LABELS[role]})` : ""} cannot see {what}. Ask an admin if you need it.
    </p>
  </div>
);

/**
 * A page's permission check, made on the server before anything renders (page.tsx passes
 * the signed-in role): the page itself, or the no-access page. The Suspense boundary lets
 * client views read the URL's search params.
 */
export const Guarded = ({ role, permission, what, children }: { role: string | null | undefined; permission: Permission; what: string; children: ReactNode }) =>
  can(role, permission) ? <Suspense>{children}</Suspense> : <NoAccess role={role} what={what} />;
