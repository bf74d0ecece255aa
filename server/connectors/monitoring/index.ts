import "server-only";
import { env, type Env } from "../../env";
import type { UpstreamHealth } from "../health";
import type { LiveView, LiveViewTiming } from "../kit/live-view";
import type { Connector } from "../kit/registry";
import { createMonitoringClient, type MonitoringClient } from "./client";
import { startMonitoringLiveView } from "./live-view";
import { monitoringStore, type MonitoringStore } from "./store";

export { createMonitoringClient, SERVICE_SCOPE, type MonitoringClient, type MonitoringScope } from "./client";
export { startMonitoringLiveView } from "./live-view";
export { createMonitoringStore, deviceKey, monitoringStore, siteKey, type MonitoringStore } from "./store";

export type MonitoringConnector = Connector & { domain: "monitoring"; client: MonitoringClient; store: MonitoringStore; view: LiveView };

declare module "../kit/registry" {
  interface ConnectorsByDomain {
    monitoring: MonitoringConnector;
  }
}

/**
 * The monitoring connector: the summary API's client and the live view that fills the
 * store. Alarm actions answer at once (the service decides them synchronously), so there
 * is nothing to recover after a restart: no `recoverCommand`.
 */
export const createMonitoringConnector = ({ client, health, store = monitoringStore(), ...timing }: LiveViewTiming & { client: MonitoringClient; health: UpstreamHealth; store?: MonitoringStore }): MonitoringConnector => {
  const view = startMonitoringLiveView({ client, health, store, ...timing });
  return { domain: "monitoring", client, store, view, close: () => view.close() };
};

/** The monitoring connector from the process settings, or null when MONITORING_URL is unset or off. */
export const connectMonitoring = (health: UpstreamHealth, e: Env = env()): MonitoringConnector | null => {
  if (!e.MONITORING_URL || e.MONITORING_URL === "off") return null;
  return createMonitoringConnector({ client: createMonitoringClient({ baseUrl: e.MONITORING_URL, token: e.MONITORING_CONSOLE_TOKEN }), health });
};
