import { z } from "zod";
import { logger } from "../../../lib/log";
import { describeTarget } from "../../../lib/db/open";
import { openManagerDb } from "./db";
import { startManager } from "./manager";

// The logger is created lazily, so naming the service here is early enough.
process.env.SWITCHYARD_SERVICE ??= "csms-manager";

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

/** Every setting the manager reads (services/csms/README.md lists them). */
const managerEnvSchema = z.object({
  CSMS_MANAGER_HOST: z.string().default("127.0.0.1"),
  CSMS_MANAGER_PORT: port.default(9410),
  MQTT_URL: z.string().regex(/^(mqtts?|wss?):\/\//, "must be mqtt://, mqtts://, ws:// or wss://").default("mqtt://127.0.0.1:1884"),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  CSMS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "topic levels of letters, digits, _ and -").default("cs"),
  CSMS_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("manager"),
  CSMS_API_TOKEN: z.string().min(16, "must be at least 16 characters"),
  CSMS_GATEWAY_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  CSMS_ACCEPT_UNKNOWN_TOKENS: bool.default(false),
  CSMS_OPEN_REGISTRATION: bool.default(false),
  CSMS_HEARTBEAT_INTERVAL_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  CSMS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  CSMS_MESSAGE_LOG_DAYS: z.coerce.number().positive().max(3650).default(7),
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
  DATABASE_URL: z.string().regex(/^(postgres(ql)?:\/\/|memory:\/\/)/, "must be postgres://… or memory://").optional(),
});

const main = async () => {
  const parsed = managerEnvSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const e = parsed.data;
  const log = logger();
  const database = await openManagerDb({ databaseUrl: e.DATABASE_URL, dataDir: e.SWITCHYARD_DATA_DIR, log: (line) => log.info(line) });
  log.info({ database: describeTarget(database.target) }, "csms database ready");
  let manager;
  try {
    manager = await startManager({
      host: e.CSMS_MANAGER_HOST,
      port: e.CSMS_MANAGER_PORT,
      mqttUrl: e.MQTT_URL,
      mqttUsername: e.MQTT_USERNAME,
      mqttPassword: e.MQTT_PASSWORD,
      topicPrefix: e.CSMS_TOPIC_PREFIX,
      shareGroup: e.CSMS_SHARE_GROUP,
      db: database.db,
      apiToken: e.CSMS_API_TOKEN,
      gatewayToken: e.CSMS_GATEWAY_TOKEN,
      acceptUnknownTokens: e.CSMS_ACCEPT_UNKNOWN_TOKENS,
      openRegistration: e.CSMS_OPEN_REGISTRATION,
      heartbeatIntervalSec: e.CSMS_HEARTBEAT_INTERVAL_SEC,
      commandTimeoutMs: e.CSMS_COMMAND_TIMEOUT_MS,
      messageLogDays: e.CSMS_MESSAGE_LOG_DAYS,
      log,
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  // The launcher waits for this exact line to learn the actual port.
  process.stdout.write(`${JSON.stringify({ event: "ready", url: manager.url, managerId: manager.managerId, sharedSubscription: manager.sharedSubscription(), pid: process.pid })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "csms manager stopping");
    // Backstop: a hung close must not keep the process alive forever.
    setTimeout(() => process.exit(0), 8000).unref();
    // Batches are flushed inside close(), before the database goes away.
    manager
      .close()
      .then(() => database.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: (error as Error).message }, "csms manager shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`csms manager failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
