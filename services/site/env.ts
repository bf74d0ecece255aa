import { z } from "zod";
import { zDatabaseUrl, zEmbeddedMqttPort, zMqttUrl, zPort } from "../../lib/env";

/**
 * The settings of the site's core (docs/configuration.md lists them). Each module reads
 * its own from the same environment (e.g. services/site/modules/csms.ts).
 */
export const siteEnvSchema = z.object({
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
  DATABASE_URL: zDatabaseUrl.optional(),
  /** Unset → the embedded aedes broker on MQTT_PORT. */
  MQTT_URL: zMqttUrl.optional(),
  /** An external broker's one account for every component; unset → each its own generated account. */
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_PORT: zEmbeddedMqttPort.default(1884),
  SITE_HOST: z.string().default("127.0.0.1"),
  SITE_PORT: zPort.default(8090),
  SITE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** When set, every /metrics of the site's services needs `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
});
export type SiteEnv = z.infer<typeof siteEnvSchema>;
