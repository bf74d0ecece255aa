import { env } from "../env";
import { logger } from "../log/logger";
import { upstreamUp } from "../metrics";
import { upstreamHealth } from "./health";
import { connectBrokerLink, type BrokerLink } from "./mqtt/broker-link";

type Connectors = { broker: BrokerLink };
const g = globalThis as unknown as { __switchyardConnectors?: Connectors };

/**
 * Starts every upstream connector once per process (called from instrumentation.ts).
 * Each keeps its own reconnect loop and reports to the upstream health registry.
 */
export const startConnectors = (): Connectors => {
  if (g.__switchyardConnectors) return g.__switchyardConnectors;
  const e = env();
  const health = upstreamHealth();
  health.feed.listen(() => {
    for (const s of health.list()) upstreamUp().set({ upstream: s.id }, s.state === "connected" ? 1 : 0);
  });
  const broker = connectBrokerLink({ url: e.mqttUrl, username: e.MQTT_USERNAME, password: e.MQTT_PASSWORD, health });
  logger().info({ mqttUrl: e.mqttUrl }, "connectors started");
  g.__switchyardConnectors = { broker };
  return g.__switchyardConnectors;
};

export const connectors = (): Connectors | undefined => g.__switchyardConnectors;
/** Tests plug in connectors they started themselves. */
export const setConnectors = (c: Connectors | undefined) => {
  g.__switchyardConnectors = c;
};
