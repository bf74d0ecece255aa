import { startTestManager } from "../../services/csms/testkit";

/**
 * `--manager inline`: the testkit's tiny stand-in manager in its own process. It answers
 * every station CALL with a plausible "Accepted" and stores nothing, so a run against it
 * measures gateway + broker + load generator only (no database, no feed).
 */
const main = async () => {
  const mqttUrl = process.env.MQTT_URL ?? "mqtt://127.0.0.1:1883";
  const prefix = process.env.CSMS_TOPIC_PREFIX ?? "cs";
  const heartbeatInterval = Number(process.env.CSMS_HEARTBEAT_INTERVAL_SEC ?? 60);
  const manager = await startTestManager({ mqttUrl, prefix, heartbeatInterval });
  // The test manager records every message for assertions; a benchmark must not grow without bound.
  setInterval(() => manager.messages.splice(0), 1000).unref();
  process.stdout.write(`${JSON.stringify({ event: "ready", service: "bench-responder", pid: process.pid })}\n`);
  const stop = () => {
    setTimeout(() => process.exit(0), 2000).unref();
    void manager.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`bench responder failed: ${(error as Error).message}\n`);
  process.exit(1);
});
