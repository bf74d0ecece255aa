import { z } from "zod";
import { logger } from "../../../lib/log";
import { allowAnyStation, createManagerAuthenticator } from "./auth";
import { startGateway } from "./gateway";

// The logger is created lazily, so naming the service here is early enough.
process.env.SWITCHYARD_SERVICE ??= "csms-gateway";

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

/** The gateway's settings (services/csms/README.md lists them). */
const gatewayEnvSchema = z.object({
  CSMS_GATEWAY_HOST: z.string().default("127.0.0.1"),
  CSMS_GATEWAY_PORT: port.default(9310),
  MQTT_URL: z
    .string()
    .regex(/^(mqtts?|wss?):\/\//, "must be mqtt://, mqtts://, ws:// or wss://")
    .default("mqtt://127.0.0.1:1884"),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  CSMS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "letters, digits, _ and - in /-separated levels").default("cs"),
  CSMS_MANAGER_URL: z.url().default("http://127.0.0.1:9410"),
  CSMS_GATEWAY_TOKEN: z.string().optional(),
  /** Accept any station id and password. Simulators and benchmarks only. */
  CSMS_ALLOW_ANY_STATION: bool.default(false),
  CSMS_GATEWAY_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  CSMS_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CSMS_MAX_QUEUED_CALLS: z.coerce.number().int().min(0).default(5),
  CSMS_MAX_FRAME_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  CSMS_RATE_LIMIT_PER_SEC: z.coerce.number().positive().default(20),
  CSMS_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(40),
});

const main = async () => {
  const parsed = gatewayEnvSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const e = parsed.data;
  const log = logger();
  if (e.CSMS_ALLOW_ANY_STATION) log.warn("CSMS_ALLOW_ANY_STATION=1: every station is accepted without a password check");
  else if (!e.CSMS_GATEWAY_TOKEN) log.warn("CSMS_GATEWAY_TOKEN is not set; auth lookups to the manager carry no gateway token");
  const gateway = await startGateway({
    host: e.CSMS_GATEWAY_HOST,
    port: e.CSMS_GATEWAY_PORT,
    mqttUrl: e.MQTT_URL,
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    topicPrefix: e.CSMS_TOPIC_PREFIX,
    gatewayId: e.CSMS_GATEWAY_ID,
    callTimeoutMs: e.CSMS_CALL_TIMEOUT_MS,
    maxQueuedCalls: e.CSMS_MAX_QUEUED_CALLS,
    maxFrameBytes: e.CSMS_MAX_FRAME_BYTES,
    rateLimit: { callsPerSecond: e.CSMS_RATE_LIMIT_PER_SEC, burst: e.CSMS_RATE_LIMIT_BURST },
    authenticate: e.CSMS_ALLOW_ANY_STATION
      ? allowAnyStation
      : createManagerAuthenticator({ managerUrl: e.CSMS_MANAGER_URL, token: e.CSMS_GATEWAY_TOKEN, log }),
    log,
  });
  // A launcher waits for this exact line to learn the actual port.
  process.stdout.write(
    `${JSON.stringify({ event: "ready", service: "csms-gateway", url: gateway.url, httpUrl: gateway.httpUrl, gatewayId: gateway.gatewayId, mqttUrl: e.MQTT_URL, pid: process.pid })}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "gateway stopping");
    // Backstop: a hung close must not keep the process alive past a launcher's patience.
    setTimeout(() => process.exit(0), 5000).unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: (error as Error).message }, "gateway shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  // Plain stderr as well: a misconfiguration must be readable even with LOG_LEVEL=silent.
  process.stderr.write(`csms gateway failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
