"use client";

import { skipToken } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/contracts/console/commands";
import { useLiveFeed, type LiveState } from "./live-feed";

type CommandFeed = {
  commands: ReadonlyMap<string, CommandView>;
  received: boolean;
  state: LiveState;
  /** Registers a reader; the feed runs while at least one is mounted. */
  retain: () => () => void;
};

const CommandFeedContext = createContext<CommandFeed | null>(null);

const keyOf = (c: CommandView) => c.id;

/**
 * One live command feed for the whole console, opened only while something on the page reads
 * it (the commands list, a command button, the bulk panel) and only for roles that may
 * read commands.
 */
export const CommandFeedProvider = ({ allowed, children }: { allowed: boolean; children: ReactNode }) => {
  const trpc = useTRPC();
  const [readers, setReaders] = useState(0);
  const on = allowed && readers > 0;
  const live = useLiveFeed<CommandView>({ keyOf, subscribe: (onData) => trpc.commands.onChange.subscriptionOptions(on ? undefined : skipToken, { onData }) });
  const retain = useCallback(() => {
    setReaders((n) => n + 1);
    return () => setReaders((n) => n - 1);
  }, []);
  const value = useMemo(() => ({ commands: live.items, received: live.received, state: live.state, retain }), [live.items, live.received, live.state, retain]);
  return <CommandFeedContext.Provider value={value}>{children}</CommandFeedContext.Provider>;
};

/** Live command statuses by id: the most recent commands, then every change. */
export const useCommandFeed = () => {
  const feed = useContext(CommandFeedContext);
  if (!feed) throw new Error("useCommandFeed() outside the console shell");
  const { retain } = feed;
  useEffect(() => retain(), [retain]);
  return feed;
};
