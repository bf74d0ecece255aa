import { runService } from "../lib/run-service";
import { monitoringEnvSchema, regionDatabases, regionNatsUrls } from "./env";
import { startMonitoring } from "./service";

/** `npm run monitoring`: the monitoring service as a process of its own. */
runService({
  name: "monitoring",
  envSchema: monitoringEnvSchema,
  stopTimeoutMs: 8000,
  start: async ({ env: e, log }) => {
    const service = await startMonitoring({
      host: e.MONITORING_HOST,
      port: e.MONITORING_PORT,
      regions: e.MONITORING_REGIONS,
      regionDatabases: regionDatabases(e.MONITORING_REGIONS),
      dataDir: e.SWITCHYARD_DATA_DIR,
      role: e.MONITORING_ROLE,
      broker:
        e.MONITORING_BROKER === "nats"
          ? { kind: "nats", url: e.MONITORING_NATS_URL, urls: regionNatsUrls(e.MONITORING_REGIONS), subjectPrefix: e.MONITORING_NATS_PREFIX, streamPrefix: e.MONITORING_NATS_STREAM, ackWaitMs: e.MONITORING_NATS_ACK_WAIT_MS, user: e.MONITORING_NATS_USER, pass: e.MONITORING_NATS_PASSWORD }
          : { kind: "in-process", maxQueued: e.MONITORING_QUEUE_MAX },
      consoleToken: e.MONITORING_CONSOLE_TOKEN,
      adminToken: e.MONITORING_ADMIN_TOKEN,
      mqtt: e.MONITORING_MQTT_URL ? { url: e.MONITORING_MQTT_URL, username: e.MONITORING_MQTT_USERNAME, password: e.MONITORING_MQTT_PASSWORD, shareGroup: e.MONITORING_MQTT_SHARE_GROUP } : undefined,
      publicUrl: e.MONITORING_PUBLIC_URL,
      maxBodyBytes: e.MONITORING_MAX_BODY_BYTES,
      maxClockSkewMs: e.MONITORING_MAX_CLOCK_SKEW_SEC * 1000,
      rawRetentionDays: e.MONITORING_RAW_RETENTION_DAYS,
      rollup1mRetentionDays: e.MONITORING_ROLLUP_1M_RETENTION_DAYS,
      rollup1hRetentionDays: e.MONITORING_ROLLUP_1H_RETENTION_DAYS,
      recordsPerSecond: e.MONITORING_INGEST_RECORDS_PER_SEC,
      requestsPerSecond: e.MONITORING_INGEST_REQUESTS_PER_SEC,
      gatewayMessagesPerSecond: e.MONITORING_GATEWAY_MESSAGES_PER_SEC,
      reportIntervalMs: e.MONITORING_REPORT_INTERVAL_SEC * 1000,
      silentIntervals: e.MONITORING_SILENT_INTERVALS,
      syncTimeoutMs: e.MONITORING_SYNC_TIMEOUT_MS,
      feedCoalesceMs: e.MONITORING_FEED_COALESCE_MS,
      insertConnections: e.MONITORING_DB_INSERT_CONNECTIONS,
      log,
    });
    return { ready: { url: service.url, role: e.MONITORING_ROLE, broker: e.MONITORING_BROKER, regions: e.MONITORING_REGIONS }, close: service.close };
  },
});
