import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { auth } from "@/server/auth";
import { isRole, permissionsOf, ROLE_LABELS } from "@/contracts/console/permissions";
import { db } from "@/server/db";
import { NAV_ITEMS } from "./_components/nav-items";
import type { ConsoleUser } from "./_components/session";
import { Shell } from "./_components/shell";

export const dynamic = "force-dynamic";

/** Back to sign-in, remembering the page; a cookie the server no longer honours means it expired. */
function toSignIn(path: string | null, expired: boolean): never {
  redirect(`/login?next=${encodeURIComponent(path ?? "/")}${expired ? "&expired=1" : ""}`);
}

const hasSessionCookie = (cookie: string | null) => /(^|;\s*)[^=;]*switchyard\.session_token=/.test(cookie ?? "");

/**
 * Every console page: a real session and an enabled account, read fresh from the database
 * (the proxy only checked that a cookie exists). The navigation shows what the role may use.
 */
const ConsoleLayout = async ({ children }: { children: ReactNode }) => {
  const requestHeaders = await headers();
  const path = requestHeaders.get("x-pathname");
  const expired = hasSessionCookie(requestHeaders.get("cookie"));
  const session = await auth().api.getSession({ headers: requestHeaders });
  if (!session) toSignIn(path, expired);
  const row = await db().user.findUnique({ where: { id: session.user.id }, include: { participant: true } });
  if (!row || row.disabled || !isRole(row.role)) toSignIn(path, false);

  const permissions = permissionsOf(row.role);
  const user: ConsoleUser = {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    roleLabel: ROLE_LABELS[row.role],
    participantId: row.participantId,
    participantName: row.participant?.name ?? null,
    regions: row.regions,
    permissions,
  };
  const nav = NAV_ITEMS.filter((item) => permissions.includes(item.permission));

  return (
    <Shell user={user} nav={nav}>
      {children}
    </Shell>
  );
};

export default ConsoleLayout;
