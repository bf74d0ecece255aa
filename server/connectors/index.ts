import "server-only";
import { env } from "../env";
import { logger } from "../../lib/log";
import { upstreamUp } from "../metrics";
import { upstreamHealth } from "./health";
import { connectCsms, type CsmsLiveView } from "./csms";
import { connectBrokerLink, type BrokerLink } from "./mqtt/broker-link";

export type Connectors = {
  broker?: BrokerLink;
  /** The CSMS manager's live view and client; absent when CSMS_MANAGER_URL=off. */
  csms?: CsmsLiveView;
};
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
  const csms = connectCsms(health, e) ?? undefined;
  logger().info({ mqttUrl: e.mqttUrl, csmsManagerUrl: e.CSMS_MANAGER_URL }, "connectors started");
  g.__switchyardConnectors = { broker, csms };
  return g.__switchyardConnectors;
};

export const connectors = (): Connectors | undefined => g.__switchyardConnectors;
/** Tests plug in connectors they started themselves. */
export const setConnectors = (c: Connectors | undefined) => {
  g.__switchyardConnectors = c;
};
