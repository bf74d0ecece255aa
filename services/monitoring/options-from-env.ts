import { regionDatabases, regionNatsUrls, type MonitoringEnv } from "./env";
import type { MonitoringOptions } from "./service";

/**
 * The service's settings read from its environment, one mapping for `npm run monitoring`
 * (main.ts) and the embedded site (services/site/modules/monitoring.ts), so a setting the
 * docs list cannot work in one and be ignored by the other. Listening, tokens, the data
 * directory and the building broker are the caller's.
 */
export const monitoringOptionsFromEnv = (e: Omit<MonitoringEnv, "MONITORING_CONSOLE_TOKEN" | "MONITORING_ADMIN_TOKEN">, source: Record<string, string | undefined> = process.env) =>
  ({
    regions: e.MONITORING_REGIONS,
    regionDatabases: regionDatabases(e.MONITORING_REGIONS, source),
    broker:
      e.MONITORING_BROKER === "nats"
        ? { kind: "nats", url: e.MONITORING_NATS_URL, urls: regionNatsUrls(e.MONITORING_REGIONS, source), subjectPrefix: e.MONITORING_NATS_PREFIX, streamPrefix: e.MONITORING_NATS_STREAM, ackWaitMs: e.MONITORING_NATS_ACK_WAIT_MS, user: e.MONITORING_NATS_USER, pass: e.MONITORING_NATS_PASSWORD }
        : { kind: "in-process", maxQueued: e.MONITORING_QUEUE_MAX },
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
  }) satisfies Partial<MonitoringOptions>;
