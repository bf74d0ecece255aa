import { yieldToLoop } from "./chunks";

/**
 * Collects rows and writes them in batches: every `intervalMs`, or at once when `maxRows`
 * are waiting. A failed batch is logged and dropped after one row-by-row retry, so one bad
 * row never blocks the rest (or grows memory without bound while the database is down for
 * long: at most `maxPending` rows are kept).
 */
export type Batcher<T> = {
  push: (row: T) => void;
  /** Writes everything queued so far; resolves when it is in the database (or dropped). */
  flush: () => Promise<void>;
  pending: () => number;
  close: () => Promise<void>;
};

export const createBatcher = <T>({
  write,
  writeOne,
  intervalMs = 250,
  maxRows = 500,
  maxPending = 100_000,
  onError,
  onDrop,
}: {
  write: (rows: T[]) => Promise<unknown>;
  /** Row-by-row fallback after a failed batch; omitted → the batch is dropped. */
  writeOne?: (row: T) => Promise<unknown>;
  intervalMs?: number;
  maxRows?: number;
  maxPending?: number;
  onError?: (error: Error, rows: number) => void;
  onDrop?: (rows: number) => void;
}): Batcher<T> => {
  let queue: T[] = [];
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const drain = async () => {
    let first = true;
    while (queue.length) {
      // A turn of the event loop between statements (chunks.ts): a long queue never holds it.
      if (!first) await yieldToLoop();
      first = false;
      const rows = queue.slice(0, maxRows);
      queue = queue.slice(rows.length);
      try {
        await write(rows);
      } catch (error) {
        onError?.(error as Error, rows.length);
        if (!writeOne) {
          onDrop?.(rows.length);
          continue;
        }
        let dropped = 0;
        for (const row of rows) await writeOne(row).catch(() => (dropped += 1));
        if (dropped) onDrop?.(dropped);
      }
    }
  };
  const flush = () => (running = running.then(drain));

  const timer = setInterval(() => {
    if (queue.length) void flush();
  }, intervalMs);
  timer.unref();

  return {
    push: (row) => {
      if (closed) return;
      if (queue.length >= maxPending) {
        onDrop?.(1);
        return;
      }
      queue.push(row);
      if (queue.length >= maxRows) void flush();
    },
    flush,
    pending: () => queue.length,
    close: async () => {
      clearInterval(timer);
      await flush();
      closed = true;
    },
  };
};
