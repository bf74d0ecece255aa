"use client";

import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/server/commands/command-feed";
import { useLiveMap, useLiveState } from "./live";

const keyOf = (c: CommandView) => c.id;

/** Live command statuses by id (the most recent commands, then every change). */
export const useCommandFeed = (enabled: boolean) => {
  const trpc = useTRPC();
  const { items, received, apply } = useLiveMap<CommandView>(keyOf);
  const subscription = useSubscription(
    trpc.commands.onChange.subscriptionOptions(enabled ? undefined : skipToken, { onData: (event) => apply(event.data) }),
  );
  const state = useLiveState(subscription, received);
  return { commands: items, received, state };
};
