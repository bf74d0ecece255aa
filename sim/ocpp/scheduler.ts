/**
 * One timer for many stations. A fleet of 10k stations with a heartbeat, a meter and a
 * behaviour timer each would be 30k+ timers; instead every station registers a tick
 * function that checks its own due times.
 */
export type Scheduler = {
  /** Runs `task(nowMs)` every tick until the returned function is called. */
  add: (task: (now: number) => void) => () => void;
  tickMs: number;
  stop: () => void;
};

export const createScheduler = ({ tickMs = 100, onError }: { tickMs?: number; onError?: (error: unknown) => void } = {}): Scheduler => {
  const tasks = new Set<(now: number) => void>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const task of tasks) {
      try {
        task(now);
      } catch (error) {
        onError?.(error);
      }
    }
  }, tickMs);
  // The stations' sockets keep a simulator process alive; the timer alone should not.
  timer.unref();
  return {
    tickMs,
    add: (task) => {
      tasks.add(task);
      return () => void tasks.delete(task);
    },
    stop: () => {
      clearInterval(timer);
      tasks.clear();
    },
  };
};
