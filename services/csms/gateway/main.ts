import { z } from "zod";
import { zBool, zPort } from "../../../lib/env";
import { runService } from "../../lib/run-service";
import { CSMS_COMPONENTS } from "../broker-access";
import { csmsServiceEnv, csmsServiceOptions } from "../service-env";
import { allowAnyStation, createManagerAuthenticator } from "./auth";
import { startGateway } from "./gateway";

/** The gateway's settings (services/csms/README.md lists them). */
const gatewayEnvSchema = z.object({
  ...csmsServiceEnv,
  CSMS_GATEWAY_HOST: z.string().default("127.0.0.1"),
  CSMS_GATEWAY_PORT: zPort.default(9310),
  CSMS_MANAGER_URL: z.url().default("http://127.0.0.1:9410"),
  CSMS_GATEWAY_TOKEN: z.string().optional(),
  /** Accept any station id and password. Simulators and benchmarks only. */
  CSMS_ALLOW_ANY_STATION: zBool.default(false),
  CSMS_GATEWAY_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  CSMS_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CSMS_MAX_QUEUED_CALLS: z.coerce.number().int().min(0).default(5),
  CSMS_MAX_FRAME_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  CSMS_RATE_LIMIT_PER_SEC: z.coerce.number().positive().default(20),
  CSMS_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(40),
  CSMS_FLOOD_MAX_REFUSED: z.coerce.number().int().positive().default(100),
  CSMS_FLOOD_PAUSE_MS: z.coerce.number().int().min(0).default(1000),
  CSMS_MQTT_QOS: z.enum(["0", "1"]).default("1").transform((v) => Number(v) as 0 | 1),
  CSMS_STATION_CALL_RETRY_MS: z.coerce.number().int().min(0).default(5000),
  CSMS_MAX_PENDING_UPGRADES: z.coerce.number().int().positive().default(1000),
});

runService({
  name: "csms-gateway",
  envSchema: gatewayEnvSchema,
  start: async ({ env: e, log }) => {
    if (e.CSMS_ALLOW_ANY_STATION) log.warn("CSMS_ALLOW_ANY_STATION=1: every station is accepted without a password check");
    else if (!e.CSMS_GATEWAY_TOKEN) log.warn("CSMS_GATEWAY_TOKEN is not set; auth lookups to the manager carry no gateway token");
    const gateway = await startGateway({
      host: e.CSMS_GATEWAY_HOST,
      port: e.CSMS_GATEWAY_PORT,
      ...csmsServiceOptions(e, CSMS_COMPONENTS.gateway),
      gatewayId: e.CSMS_GATEWAY_ID,
      callTimeoutMs: e.CSMS_CALL_TIMEOUT_MS,
      maxQueuedCalls: e.CSMS_MAX_QUEUED_CALLS,
      maxFrameBytes: e.CSMS_MAX_FRAME_BYTES,
      rateLimit: { callsPerSecond: e.CSMS_RATE_LIMIT_PER_SEC, burst: e.CSMS_RATE_LIMIT_BURST },
      floodLimit: { maxRefused: e.CSMS_FLOOD_MAX_REFUSED, pauseMs: e.CSMS_FLOOD_PAUSE_MS, windowMs: 10_000 },
      qos: e.CSMS_MQTT_QOS,
      retryMs: e.CSMS_STATION_CALL_RETRY_MS,
      maxPendingUpgrades: e.CSMS_MAX_PENDING_UPGRADES,
      authenticate: e.CSMS_ALLOW_ANY_STATION
        ? allowAnyStation
        : createManagerAuthenticator({ managerUrl: e.CSMS_MANAGER_URL, token: e.CSMS_GATEWAY_TOKEN, log }),
      log,
    });
    return { ready: { url: gateway.url, httpUrl: gateway.httpUrl, gatewayId: gateway.gatewayId, mqttUrl: e.MQTT_URL }, close: gateway.close };
  },
});
