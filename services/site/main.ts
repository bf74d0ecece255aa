import { createHash } from "node:crypto";
import { readCredentials } from "../../lib/credentials";
import { parseEnv } from "../../lib/env";
import { logger } from "../../lib/log";
import { siteEnvSchema } from "./env";
import { startSite } from "./site";

// The logger is created lazily, so naming the service here is early enough.
process.env.SWITCHYARD_SERVICE ??= "site";

const main = async () => {
  const e = parseEnv(siteEnvSchema);
  const log = logger();
  const siteToken = readCredentials(e.SWITCHYARD_DATA_DIR).secrets?.siteToken;
  const apiToken = e.CSMS_API_TOKEN ?? siteToken;
  if (e.SITE_CSMS && (!apiToken || apiToken.length < 16)) {
    throw new Error("Invalid configuration:\n  CSMS_API_TOKEN: required (16+ characters) to run the charging domain; npm start generates one");
  }
  const gatewayToken = e.CSMS_GATEWAY_TOKEN ?? createHash("sha256").update(`${apiToken}:gateway`).digest("base64url");
  const site = await startSite({
    mqttUrl: e.MQTT_URL,
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    mqttPort: e.MQTT_PORT,
    host: e.SITE_HOST,
    httpPort: e.SITE_PORT,
    log,
    csms: e.SITE_CSMS
      ? {
          managerPort: e.CSMS_MANAGER_PORT,
          gatewayPort: e.CSMS_GATEWAY_PORT,
          dataDir: e.SWITCHYARD_DATA_DIR,
          databaseUrl: e.DATABASE_URL,
          apiToken: apiToken!,
          gatewayToken,
          simStations: e.SITE_SIM_STATIONS,
        }
      : undefined,
  });
  // The launcher (scripts/start.ts) waits for this exact line to learn the actual ports.
  process.stdout.write(`${JSON.stringify({ event: "ready", mqttUrl: site.mqttUrl, httpUrl: site.httpUrl, csmsManagerUrl: site.csms?.managerUrl ?? null, csmsGatewayUrl: site.csms?.gatewayUrl ?? null, pid: process.pid })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "site stopping");
    // Backstop: a hung close must not keep the process alive past the launcher's patience.
    setTimeout(() => process.exit(0), 1500).unref();
    site.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: (error as Error).message }, "site shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  // Plain stderr as well as the log: a misconfiguration must be readable even with LOG_LEVEL=silent.
  process.stderr.write(`site failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
