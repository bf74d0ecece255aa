/**
 * Bounded database work. On the embedded PGlite every statement runs on this thread (its
 * WASM Postgres), and a chain of awaited statements can run back to back without letting
 * MQTT messages or timers in. So batch writes go in statements of at most a few hundred rows,
 * with a turn of the event loop between them: a station CALL arriving during a flush waits
 * for one chunk, not the whole flush.
 */
export const WRITE_CHUNK_ROWS = 200;

/** Lets pending I/O and timers run before the next chunk. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `fn` on consecutive slices of at most `size` rows, yielding to the event loop between them. */
export const inChunks = async <T>(rows: T[], fn: (chunk: T[]) => Promise<unknown>, size = WRITE_CHUNK_ROWS) => {
  for (let i = 0; i < rows.length; i += size) {
    if (i > 0) await yieldToLoop();
    await fn(rows.slice(i, i + size));
  }
};
