"use client";

import { useSyncExternalStore } from "react";
import { formatAge, formatDateTime } from "../format";

/**
 * One clock for every relative time on the page: a single 1 s interval while anything shows
 * an age, so a table of "Last seen" cells ticks without one timer (or one table re-render)
 * per row.
 */
const clock = (() => {
  let now = Date.now();
  const listeners = new Set<() => void>();
  let timer: ReturnType<typeof setInterval> | null = null;
  return {
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      timer ??= setInterval(() => {
        now = Date.now();
        for (const l of listeners) l();
      }, 1000);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    now: () => now,
  };
})();

/** The shared clock (ms), re-read every second. */
export const useTick = () => useSyncExternalStore(clock.subscribe, clock.now, clock.now);

/** "12 s ago" for a time (ISO string, Date or ms), ticking each second; `never` when there is none. */
export const Ago = ({ at, never = "never", testId }: { at: string | number | Date | null | undefined; never?: string; testId?: string }) => {
  const now = useTick();
  if (at === null || at === undefined) return <span data-testid={testId}>{never}</span>;
  const ms = new Date(at).getTime();
  return (
    <time dateTime={new Date(ms).toISOString()} title={formatDateTime(ms)} data-testid={testId}>
      {formatAge(Math.max(0, now - ms))} ago
    </time>
  );
};
