import type { Metadata } from "next";
import { headers } from "next/headers";
import { auth } from "@/server/auth";
import { Guarded } from "../../_components/ui/no-access";
import { UsersView } from "./users-view";

export const metadata: Metadata = { title: "Users" };

/** Checked on the server: a role without admin.users.read gets the no-access page, never the view. */
const UsersPage = async () => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="admin.users.read" what="user management">
    <UsersView />
  </Guarded>
);

export default UsersPage;
