import type pino from "pino";
import type { z } from "zod";
import { parseEnv } from "../../lib/env";
import { logger } from "../../lib/log";

export type StartedService = {
  /** Merged into the one `ready` line a launcher waits for (URLs, ids, actual ports). */
  ready: Record<string, unknown>;
  /** Graceful stop: flush what is batched, close sockets. */
  close: () => Promise<void>;
};

export type RunServiceOptions<S extends z.ZodType> = {
  /** Names the process in every log line (`service` field) and in the ready line. */
  name: string;
  envSchema: S;
  start: (ctx: { env: z.infer<S>; log: pino.Logger }) => Promise<StartedService>;
  /** Backstop: exit even if close() hangs this long after SIGTERM. */
  stopTimeoutMs?: number;
};

/**
 * The skeleton every service's main.ts runs on: validated settings (one readable error
 * listing every bad one), one JSON ready line on stdout, graceful SIGTERM/SIGINT with a
 * backstop, and a plain stderr line when start fails (readable even with LOG_LEVEL=silent).
 */
export const runService = <S extends z.ZodType>({ name, envSchema, start, stopTimeoutMs = 5000 }: RunServiceOptions<S>) => {
  // The logger is created lazily, so naming the service here is early enough.
  process.env.SWITCHYARD_SERVICE ??= name;
  const main = async () => {
    const env = parseEnv(envSchema);
    const log = logger();
    const service = await start({ env, log });
    process.stdout.write(`${JSON.stringify({ event: "ready", service: name, ...service.ready, pid: process.pid })}\n`);

    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, `${name} stopping`);
      setTimeout(() => {
        log.warn({ stopTimeoutMs }, `${name} did not stop in time; exiting`);
        process.exit(0);
      }, stopTimeoutMs).unref();
      service.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: (error as Error).message }, `${name} shutdown failed`);
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  };
  main().catch((error: unknown) => {
    process.stderr.write(`${name} failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  });
};
