import { z } from "zod";
import { zDatabaseUrl, zList, zPort } from "../../lib/env";
import { REGION_PATTERN } from "../../contracts/monitoring";

/** Every setting the monitoring service reads (services/monitoring/README.md lists them). */
const ms = (dflt: number, max = 3_600_000) => z.coerce.number().int().min(1).max(max).default(dflt);
export const monitoringEnvSchema = z.object({
  MONITORING_HOST: z.string().default("127.0.0.1"),
  MONITORING_PORT: zPort.default(8300),
  MONITORING_REGIONS: zList.pipe(z.array(z.string().regex(REGION_PATTERN, "region names are lower-case letters, digits and -")).min(1)).default(["eu-north", "eu-west", "ap-southeast"]),
  MONITORING_ROLE: z.enum(["all", "ingest", "consumer"]).default("all"),
  MONITORING_BROKER: z.enum(["in-process", "nats"]).default("in-process"),
  MONITORING_NATS_URL: z.string().regex(/^(nats|tls):\/\//, "must be nats://… or tls://…").default("nats://127.0.0.1:4222"),
  MONITORING_NATS_USER: z.string().optional(),
  MONITORING_NATS_PASSWORD: z.string().optional(),
  MONITORING_NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default("sy"),
  MONITORING_NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/).default("SY_MONITORING"),
  MONITORING_NATS_ACK_WAIT_MS: ms(30_000),
  MONITORING_DB_INSERT_CONNECTIONS: z.coerce.number().int().min(1).max(16).default(3),
  MONITORING_QUEUE_MAX: z.coerce.number().int().min(100).max(10_000_000).default(200_000),
  MONITORING_CONSOLE_TOKEN: z.string().min(16, "must be at least 16 characters"),
  MONITORING_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"),
  MONITORING_MQTT_URL: z.string().regex(/^(mqtts?|wss?):\/\//, "must be mqtt://, mqtts://, ws:// or wss://").optional(),
  MONITORING_MQTT_USERNAME: z.string().optional(),
  MONITORING_MQTT_PASSWORD: z.string().optional(),
  MONITORING_MQTT_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  MONITORING_PUBLIC_URL: z.url().optional(),
  MONITORING_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  MONITORING_MAX_CLOCK_SKEW_SEC: z.coerce.number().int().min(0).max(86_400).default(300),
  MONITORING_RAW_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(42),
  MONITORING_ROLLUP_1M_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(42),
  MONITORING_ROLLUP_1H_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(730),
  MONITORING_INGEST_RECORDS_PER_SEC: z.coerce.number().positive().max(1_000_000).default(2000),
  MONITORING_INGEST_REQUESTS_PER_SEC: z.coerce.number().positive().max(100_000).default(20),
  MONITORING_GATEWAY_MESSAGES_PER_SEC: z.coerce.number().positive().max(100_000).default(200),
  MONITORING_REPORT_INTERVAL_SEC: z.coerce.number().positive().max(86_400).default(10),
  MONITORING_SILENT_INTERVALS: z.coerce.number().int().min(1).max(1000).default(6),
  MONITORING_SYNC_TIMEOUT_MS: ms(10_000, 120_000),
  MONITORING_FEED_COALESCE_MS: ms(1000, 60_000),
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
});
export type MonitoringEnv = z.infer<typeof monitoringEnvSchema>;

/** `MONITORING_DB_<REGION>` (region upper-cased, - → _): that region's own database. */
export const regionEnvName = (prefix: string, region: string) => `${prefix}_${region.toUpperCase().replaceAll("-", "_")}`;

export const regionDatabases = (regions: string[], env: Record<string, string | undefined> = process.env) => {
  const out: Record<string, string | undefined> = {};
  const bad: string[] = [];
  for (const region of regions) {
    const name = regionEnvName("MONITORING_DB", region);
    const value = env[name];
    if (value !== undefined && !zDatabaseUrl.safeParse(value).success) bad.push(`  ${name}: must be postgres://… or memory://`);
    out[region] = value;
  }
  if (bad.length) throw new Error(`Invalid configuration:\n${bad.join("\n")}`);
  return out;
};

export const regionNatsUrls = (regions: string[], env: Record<string, string | undefined> = process.env) =>
  Object.fromEntries(regions.map((r) => [r, env[regionEnvName("MONITORING_NATS_URL", r)]]));
