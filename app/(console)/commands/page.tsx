import type { Metadata } from "next";
import { Suspense } from "react";
import { CommandsView } from "./commands-view";

export const metadata: Metadata = { title: "Commands" };

const CommandsPage = () => (
  <Suspense>
    <CommandsView />
  </Suspense>
);

export default CommandsPage;
