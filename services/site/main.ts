import path from "node:path";
import { ensureMqttAccounts, ensureSecretsNamed } from "../../lib/credentials";
import { runService } from "../lib/run-service";
import { siteAccess, siteSecretNames } from "./access";
import { siteEnvSchema } from "./env";
import { siteModules } from "./modules";
import { startSite } from "./site";

/**
 * The site process (`npm run site`, or started by `npm start`). Its secrets and one broker
 * account per component are generated into credentials.json on first run and kept; the
 * ready line carries the console's settings of every module (no secrets: it is logged).
 */
runService({
  name: "site",
  envSchema: siteEnvSchema,
  // Modules close in turn, then the client and the broker; the launcher waits 5 s before SIGKILL.
  stopTimeoutMs: 4000,
  start: async ({ env: e, log }) => {
    const dataDir = path.resolve(e.SWITCHYARD_DATA_DIR);
    const moduleEnv = process.env;
    const secrets = ensureSecretsNamed(dataDir, siteSecretNames(siteModules, moduleEnv));
    const accounts = ensureMqttAccounts(dataDir, Object.keys(siteAccess(siteModules, moduleEnv)));
    const site = await startSite({
      mqttUrl: e.MQTT_URL,
      mqttUsername: e.MQTT_USERNAME,
      mqttPassword: e.MQTT_PASSWORD,
      mqttPort: e.MQTT_PORT,
      host: e.SITE_HOST,
      httpPort: e.SITE_PORT,
      heartbeatMs: e.SITE_HEARTBEAT_MS,
      modules: siteModules,
      env: moduleEnv,
      dataDir,
      databaseUrl: e.DATABASE_URL,
      secrets,
      accounts,
      metricsToken: e.METRICS_TOKEN,
      log,
    });
    return { ready: { mqttUrl: site.mqttUrl, httpUrl: site.httpUrl, services: site.services, consoleEnv: site.consoleEnv }, close: site.close };
  },
});
