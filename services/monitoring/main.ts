import { runService } from "../lib/run-service";
import { monitoringEnvSchema } from "./env";
import { monitoringOptionsFromEnv } from "./options-from-env";
import { startMonitoring } from "./service";

/** `npm run monitoring`: the monitoring service as a process of its own. */
runService({
  name: "monitoring",
  envSchema: monitoringEnvSchema,
  stopTimeoutMs: 8000,
  start: async ({ env: e, log }) => {
    const service = await startMonitoring({
      ...monitoringOptionsFromEnv(e),
      host: e.MONITORING_HOST,
      port: e.MONITORING_PORT,
      dataDir: e.SWITCHYARD_DATA_DIR,
      role: e.MONITORING_ROLE,
      consoleToken: e.MONITORING_CONSOLE_TOKEN,
      adminToken: e.MONITORING_ADMIN_TOKEN,
      mqtt: e.MONITORING_MQTT_URL ? { url: e.MONITORING_MQTT_URL, username: e.MONITORING_MQTT_USERNAME, password: e.MONITORING_MQTT_PASSWORD, shareGroup: e.MONITORING_MQTT_SHARE_GROUP } : undefined,
      log,
    });
    return { ready: { url: service.url, role: e.MONITORING_ROLE, broker: e.MONITORING_BROKER, regions: e.MONITORING_REGIONS }, close: service.close };
  },
});
