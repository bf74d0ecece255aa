import { z } from "zod";
import { zDatabaseUrl } from "../../../lib/env";
import { describeTarget } from "../../../lib/db/open";
import { runService } from "../../lib/run-service";
import { positiveInt, requireSecret, rmfCommonEnv, roomLimits, zRmfPort } from "../lib/env";
import { openRmfDb } from "./db";
import { startMain } from "./server";

/** Every setting main reads (services/rmf/README.md lists them). */
const mainEnvSchema = z.object({
  ...rmfCommonEnv,
  RMF_MAIN_HOST: z.string().default("127.0.0.1"),
  RMF_MAIN_PORT: zRmfPort.default(8000),
  RMF_INTERNAL_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  RMF_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  RMF_INTERNAL_MAX_MSGS_PER_SEC: positiveInt(1_000_000).default(500),
  RMF_INTERNAL_MAX_BYTES_PER_SEC: positiveInt(1_000_000_000).default(8 * 1024 * 1024),
  RMF_STUCK_AFTER_S: z.coerce.number().positive().max(86_400).default(45),
  RMF_FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  DATABASE_URL: zDatabaseUrl.optional(),
});

runService({
  name: "rmf-main",
  envSchema: mainEnvSchema,
  stopTimeoutMs: 8000,
  start: async ({ env: e, log }) => {
    const jwtSecret = requireSecret(e.RMF_JWT_SECRET, e.SWITCHYARD_DATA_DIR, "rmfJwtSecret", "RMF_JWT_SECRET");
    const internalToken = requireSecret(e.RMF_INTERNAL_TOKEN, e.SWITCHYARD_DATA_DIR, "rmfInternalToken", "RMF_INTERNAL_TOKEN");
    const database = await openRmfDb({ databaseUrl: e.DATABASE_URL, dataDir: e.SWITCHYARD_DATA_DIR, log: (line) => log.info(line) });
    log.info({ database: describeTarget(database.target) }, "rmf database ready");
    const main = await startMain({
      host: e.RMF_MAIN_HOST,
      port: e.RMF_MAIN_PORT,
      db: database.db,
      jwtSecret,
      jwtIssuer: e.RMF_JWT_ISSUER,
      internalToken,
      commandTimeoutMs: e.RMF_COMMAND_TIMEOUT_MS,
      limits: roomLimits(e),
      internalRatePerSec: e.RMF_INTERNAL_MAX_MSGS_PER_SEC,
      internalBurst: e.RMF_INTERNAL_MAX_MSGS_PER_SEC * 2,
      internalBytesPerSec: e.RMF_INTERNAL_MAX_BYTES_PER_SEC,
      stuckAfterMs: e.RMF_STUCK_AFTER_S * 1000,
      flushIntervalMs: e.RMF_FLUSH_INTERVAL_MS,
      metricsToken: e.RMF_METRICS_TOKEN,
      log,
    }).catch(async (error: unknown) => {
      await database.close();
      throw error;
    });
    return {
      ready: { url: main.url },
      close: async () => {
        await main.close();
        await database.close();
      },
    };
  },
});
