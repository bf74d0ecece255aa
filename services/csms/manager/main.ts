import { z } from "zod";
import { describeTarget } from "../../../lib/db/open";
import { zBool, zDatabaseUrl, zPort } from "../../../lib/env";
import { runService } from "../../lib/run-service";
import { CSMS_COMPONENTS } from "../broker-access";
import { csmsServiceEnv, csmsServiceOptions } from "../service-env";
import { openManagerDb } from "./db";
import { startManager } from "./manager";
import { DEFAULT_AFFINITY } from "./ownership";

/** Every setting the manager reads (services/csms/README.md lists them). */
const managerEnvSchema = z.object({
  ...csmsServiceEnv,
  CSMS_MANAGER_HOST: z.string().default("127.0.0.1"),
  CSMS_MANAGER_PORT: zPort.default(9410),
  CSMS_MANAGER_AFFINITY: z.enum(["station", "share"]).default(DEFAULT_AFFINITY),
  CSMS_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("manager"),
  CSMS_MANAGER_ID: z.string().regex(/^[A-Za-z0-9_-]{1,8}$/, "1–8 letters, digits, _ or -").optional(),
  CSMS_API_TOKEN: z.string().min(16, "must be at least 16 characters"),
  CSMS_GATEWAY_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  CSMS_ACCEPT_UNKNOWN_TOKENS: zBool.default(false),
  CSMS_OPEN_REGISTRATION: zBool.default(false),
  CSMS_HEARTBEAT_INTERVAL_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  CSMS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  CSMS_MESSAGE_LOG_DAYS: z.coerce.number().positive().max(3650).default(7),
  CSMS_COMMAND_RESULT_HOURS: z.coerce.number().min(24, "command outcomes are kept at least 24 h").max(24 * 365).default(24),
  CSMS_MAX_CONNECTOR_ID: z.coerce.number().int().min(1).max(1000).default(32),
  DATABASE_URL: zDatabaseUrl.optional(),
});

runService({
  name: "csms-manager",
  envSchema: managerEnvSchema,
  // Batches are flushed inside close(), before the database goes away; that can take a while.
  stopTimeoutMs: 8000,
  start: async ({ env: e, log }) => {
    const database = await openManagerDb({ databaseUrl: e.DATABASE_URL, dataDir: e.SWITCHYARD_DATA_DIR, log: (line) => log.info(line) });
    log.info({ database: describeTarget(database.target) }, "csms database ready");
    try {
      const manager = await startManager({
        host: e.CSMS_MANAGER_HOST,
        port: e.CSMS_MANAGER_PORT,
        ...csmsServiceOptions(e, CSMS_COMPONENTS.manager),
        affinity: e.CSMS_MANAGER_AFFINITY,
        shareGroup: e.CSMS_SHARE_GROUP,
        managerId: e.CSMS_MANAGER_ID,
        db: database.db,
        apiToken: e.CSMS_API_TOKEN,
        gatewayToken: e.CSMS_GATEWAY_TOKEN,
        acceptUnknownTokens: e.CSMS_ACCEPT_UNKNOWN_TOKENS,
        openRegistration: e.CSMS_OPEN_REGISTRATION,
        heartbeatIntervalSec: e.CSMS_HEARTBEAT_INTERVAL_SEC,
        commandTimeoutMs: e.CSMS_COMMAND_TIMEOUT_MS,
        messageLogDays: e.CSMS_MESSAGE_LOG_DAYS,
        commandResultHours: e.CSMS_COMMAND_RESULT_HOURS,
        maxConnectorId: e.CSMS_MAX_CONNECTOR_ID,
        log,
      });
      return {
        ready: { url: manager.url, managerId: manager.managerId, affinity: e.CSMS_MANAGER_AFFINITY, sharedSubscription: manager.sharedSubscription() },
        close: async () => {
          await manager.close();
          await database.close();
        },
      };
    } catch (error) {
      await database.close();
      throw error;
    }
  },
});
