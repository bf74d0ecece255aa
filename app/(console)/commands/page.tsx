import type { Metadata } from "next";
import { headers } from "next/headers";
import { auth } from "@/server/auth";
import { Guarded } from "../_components/ui/no-access";
import { CommandsView } from "./commands-view";

export const metadata: Metadata = { title: "Commands" };

/** Checked on the server: a role without commands.read gets the no-access page, never the view. */
const CommandsPage = async () => (
  <Guarded role={(await auth().api.getSession({ headers: await headers() }))?.user.role} permission="commands.read" what="commands">
    <CommandsView />
  </Guarded>
);

export default CommandsPage;
