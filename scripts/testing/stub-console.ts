import http from "node:http";
import { connect } from "mqtt";
import { SITE_TOPICS, siteHeartbeatSchema } from "../../contracts/site";

/**
 * A stand-in for `next start` in the launcher's own test (START_CONSOLE_COMMAND): it logs in
 * to the broker with the account the launcher handed it, like the console, and answers
 * /api/health 200 once it reads the site's heartbeat through it. No build needed.
 */
const port = Number(process.env.CONSOLE_PORT ?? 3000);
const host = process.env.CONSOLE_HOST ?? "127.0.0.1";
let heartbeats = 0;
const mqtt = connect(process.env.MQTT_URL ?? "mqtt://127.0.0.1:1884", {
  username: process.env.MQTT_USERNAME,
  password: process.env.MQTT_PASSWORD,
  reconnectPeriod: 500,
});
mqtt.on("connect", () => mqtt.subscribe(SITE_TOPICS.heartbeat));
mqtt.on("message", (_topic, payload) => {
  try {
    if (siteHeartbeatSchema.safeParse(JSON.parse(payload.toString("utf8"))).success) heartbeats += 1;
  } catch {
    // not a heartbeat
  }
});
mqtt.on("error", () => {});

const server = http.createServer((req, res) => {
  const ok = req.url === "/api/health" && mqtt.connected && heartbeats > 0;
  res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
  res.end(JSON.stringify({ pid: process.pid, mqtt: mqtt.connected, heartbeats, csmsManagerUrl: process.env.CSMS_MANAGER_URL ?? null }));
});
server.listen(port, host);
const stop = () => {
  mqtt.end(true);
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
