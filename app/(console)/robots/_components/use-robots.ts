"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { TaskState } from "@/contracts/rmf";
import type { RobotView } from "@/server/connectors/rmf";
import { useLiveFeed, useLiveStream, type LiveMessage } from "../../_components/ui/live-feed";

const byTask = (t: TaskState) => t.booking.id;

/** The task queue, or one task with `taskId`. */
export const useLiveTasks = (taskId?: string) => {
  const trpc = useTRPC();
  return useLiveFeed<TaskState>({ keyOf: byTask, subscribe: (onData) => trpc.robots.tasks.onChange.subscriptionOptions(taskId ? { taskId } : undefined, { onData }) });
};

export type RobotListener = (message: LiveMessage<RobotView>, robots: ReadonlyMap<string, RobotView>) => void;

/** How often the robots table takes a fresh copy; the map draws every update itself. */
const TABLE_REFRESH_MS = 1000;

/**
 * One robots subscription for the whole page: every update goes straight to the listeners
 * (the map, which draws them without React), while the table gets a copy at most once a
 * second, so 200 robots at 10 Hz do not re-render a table 10 times a second.
 */
export const useRobotFeed = () => {
  const trpc = useTRPC();
  const robots = useRef(new Map<string, RobotView>());
  const listeners = useRef(new Set<RobotListener>());
  const dirty = useRef(false);
  const [table, setTable] = useState<ReadonlyMap<string, RobotView>>(() => new Map());
  const onMessage = useCallback((message: LiveMessage<RobotView>) => {
    const map = robots.current;
    if (message.kind === "snapshot") {
      map.clear();
      for (const r of message.items) map.set(r.key, r);
    } else {
      for (const r of message.upserts) map.set(r.key, r);
      for (const key of message.removed) map.delete(key);
    }
    for (const listen of listeners.current) listen(message, map);
    if (message.kind === "snapshot") setTable(new Map(map));
    else dirty.current = true;
  }, []);
  const { received, state } = useLiveStream<RobotView>({ subscribe: (onData) => trpc.robots.onRobots.subscriptionOptions(undefined, { onData }), onMessage });
  useEffect(() => {
    const timer = setInterval(() => {
      if (!dirty.current) return;
      dirty.current = false;
      setTable(new Map(robots.current));
    }, TABLE_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const listen = useCallback((listener: RobotListener) => {
    listeners.current.add(listener);
    listener({ kind: "snapshot", items: [...robots.current.values()] }, robots.current);
    return () => void listeners.current.delete(listener);
  }, []);
  return useMemo(() => ({ table, received, state, listen, current: robots }), [table, received, state, listen]);
};
export type RobotFeed = ReturnType<typeof useRobotFeed>;
