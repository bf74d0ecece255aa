import { z } from "zod";
import { mqttLoginFor } from "../../lib/credentials";
import { zMqttUrl } from "../../lib/env";

/** The settings every standalone charging service reads: its broker, topics, data dir, metrics token. */
export const csmsServiceEnv = {
  MQTT_URL: zMqttUrl.default("mqtt://127.0.0.1:1884"),
  /** Unset → the component's account the site generated into credentials.json, if any. */
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
  CSMS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "topic levels of letters, digits, _ and -").default("cs"),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
};
type CsmsServiceEnv = z.infer<z.ZodObject<typeof csmsServiceEnv>>;

/** The broker and ops options of startGateway / startManager from those settings. */
export const csmsServiceOptions = (e: CsmsServiceEnv, component: string) => ({
  mqttUrl: e.MQTT_URL,
  ...mqttLoginFor({ username: e.MQTT_USERNAME, password: e.MQTT_PASSWORD, dataDir: e.SWITCHYARD_DATA_DIR, component }),
  topicPrefix: e.CSMS_TOPIC_PREFIX,
  metricsToken: e.METRICS_TOKEN,
});
