import "server-only";
import { readCredentials } from "../../../lib/credentials";
import { env, type Env } from "../../env";
import type { UpstreamHealth } from "../health";
import type { LiveViewTiming } from "../kit/live-view";
import type { Connector } from "../kit/registry";
import { createRmfClient, type RmfClient } from "./client";
import { startRmfLiveView, type RmfLiveView } from "./live-view";
import { robotsStore, type RobotsStore } from "./store";
import { createTokenCache } from "./token";

export { createRmfClient, parseRmfError, type RmfClient } from "./client";
export { startRmfLiveView, type RmfLiveView } from "./live-view";
export { createRobotsStore, robotKey, robotsStore, type AlertView, type DoorView, type FleetView, type LiftView, type RobotsStore, type RobotView, type SiteItem } from "./store";
export { createTokenCache, signRmfToken } from "./token";

export type RobotsConnector = Connector & { domain: "robots"; client: RmfClient; store: RobotsStore; view: RmfLiveView };

declare module "../kit/registry" {
  interface ConnectorsByDomain {
    robots: RobotsConnector;
  }
}

export type RobotsConnectorOptions = LiveViewTiming & { client: RmfClient; health: UpstreamHealth; store?: RobotsStore; taskRelistMs?: number };

/** The robots connector: RMF's REST client and the socket.io live view that fills the store. */
export const createRobotsConnector = ({ client, health, store = robotsStore(), ...timing }: RobotsConnectorOptions): RobotsConnector => {
  const view = startRmfLiveView({ client, health, store, ...timing });
  // RMF keeps no command records to ask after a console restart: such commands fall under the orphan rule.
  return { domain: "robots", client, store, view, close: () => view.close() };
};

/**
 * The robots connector from the process settings, or null when RMF_URL=off or no JWT secret
 * is known (RMF_JWT_SECRET, else `rmfJwtSecret` in credentials.json, which the site writes).
 */
export const connectRobots = (health: UpstreamHealth, e: Env = env()): RobotsConnector | null => {
  if (e.RMF_URL === "off") return null;
  const secret = e.RMF_JWT_SECRET ?? readCredentials(e.SWITCHYARD_DATA_DIR).secrets?.rmfJwtSecret;
  if (!secret) return null;
  const mint = createTokenCache({ secret, issuer: e.RMF_JWT_ISSUER });
  return createRobotsConnector({ client: createRmfClient({ baseUrl: e.RMF_URL, mainUrl: e.RMF_MAIN_URL ?? e.RMF_URL, mint }), health });
};
