import { z } from "zod";
import { zBool, zDatabaseUrl, zEmbeddedMqttPort, zMqttUrl, zPort } from "../../lib/env";

/** Every setting the site process reads (docs/configuration.md lists them). */
export const siteEnvSchema = z.object({
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
  DATABASE_URL: zDatabaseUrl.optional(),
  /** Unset → the embedded aedes broker on MQTT_PORT. */
  MQTT_URL: zMqttUrl.optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_PORT: zEmbeddedMqttPort.default(1884),
  SITE_HOST: z.string().default("127.0.0.1"),
  SITE_PORT: zPort.default(8090),
  SITE_CSMS: zBool.default(true),
  SITE_SIM_STATIONS: z.coerce.number().int().min(0).max(5000).default(50),
  CSMS_MANAGER_PORT: zPort.default(9410),
  CSMS_GATEWAY_PORT: zPort.default(9310),
  CSMS_API_TOKEN: z.string().min(1).optional(),
  CSMS_GATEWAY_TOKEN: z.string().min(16).optional(),
});
export type SiteEnv = z.infer<typeof siteEnvSchema>;
