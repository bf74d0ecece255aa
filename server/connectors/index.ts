import "server-only";
import { env } from "../env";
import { mqttLoginFor } from "../../lib/credentials";
import { logger } from "../../lib/log";
import { upstreamUp } from "../metrics";
import { connectCharging } from "./csms";
import { connectMonitoring } from "./monitoring";
import { connectRobots } from "./rmf";
import { connectFlex } from "./flex";
import { upstreamHealth } from "./health";
import { registerConnector } from "./kit/registry";
import { connectBrokerLink, type BrokerLink } from "./mqtt/broker-link";

export { getConnector, listConnectors, registerConnector, requireConnector, unregisterConnector, type Connector, type Domain } from "./kit/registry";

const g = globalThis as unknown as { __switchyardBrokerLink?: BrokerLink; __switchyardConnectorsStarted?: boolean };

/**
 * Starts every upstream connector once per process (called from instrumentation.ts): the
 * console's own MQTT link, then one connector per domain whose upstream is configured,
 * each registered by domain for `requireConnector`. Each keeps its own reconnect loop and
 * reports to the upstream health registry. A new domain adds one line here.
 */
export const startConnectors = () => {
  if (g.__switchyardConnectorsStarted) return;
  g.__switchyardConnectorsStarted = true;
  const e = env();
  const health = upstreamHealth();
  health.feed.listen(() => {
    for (const s of health.list()) upstreamUp().set({ upstream: s.id }, s.state === "connected" ? 1 : 0);
  });
  // MQTT_USERNAME / MQTT_PASSWORD (npm start passes them), else the console's read-only
  // account the site generated into credentials.json: the broker refuses anonymous clients.
  const login = mqttLoginFor({ username: e.MQTT_USERNAME, password: e.MQTT_PASSWORD, dataDir: e.SWITCHYARD_DATA_DIR, component: "console" });
  g.__switchyardBrokerLink = connectBrokerLink({ url: e.mqttUrl, username: login.mqttUsername, password: login.mqttPassword, health });
  const charging = connectCharging(health, e);
  if (charging) registerConnector(charging);
  const monitoring = connectMonitoring(health, e);
  if (monitoring) registerConnector(monitoring);
  const robots = connectRobots(health, e);
  if (robots) registerConnector(robots);
  else if (e.RMF_URL !== "off") logger().warn("robots connector off: no RMF_JWT_SECRET and no rmfJwtSecret in credentials.json");
  const flex = connectFlex(health, e);
  if (flex) registerConnector(flex);
  logger().info({ mqttUrl: e.mqttUrl, csmsManagerUrl: e.CSMS_MANAGER_URL }, "connectors started");
};

/** The console's MQTT connection, once connectors run. */
export const brokerLink = (): BrokerLink | undefined => g.__switchyardBrokerLink;
/** Tests plug in a link they started themselves. */
export const setBrokerLink = (link: BrokerLink | undefined) => {
  g.__switchyardBrokerLink = link;
};
