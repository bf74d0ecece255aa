import "server-only";
import { env, type Env } from "../../env";
import type { UpstreamHealth } from "../health";
import type { LiveView, LiveViewTiming } from "../kit/live-view";
import type { Connector } from "../kit/registry";
import { UpstreamHttpError } from "../kit/upstream-errors";
import { createCsmsClient, type CsmsClient } from "./client";
import { toCommandReply } from "./command-reply";
import { startCsmsLiveView } from "./live-view";
import { chargingStore, type ChargingStore } from "./store";

export { createCsmsClient, type CsmsClient } from "./client";
export { toCommandReply } from "./command-reply";
export { startCsmsLiveView } from "./live-view";
export { chargingStore, createChargingStore, type ChargingStore } from "./store";

export type ChargingConnector = Connector & { domain: "charging"; client: CsmsClient; store: ChargingStore; view: LiveView };

declare module "../kit/registry" {
  interface ConnectorsByDomain {
    charging: ChargingConnector;
  }
}

export const NEVER_RECEIVED = "the CSMS never received it; nothing was sent";

/** The charging connector: the manager's client, the live view that fills the store, command recovery. */
export const createChargingConnector = ({ client, health, store = chargingStore(), ...timing }: LiveViewTiming & { client: CsmsClient; health: UpstreamHealth; store?: ChargingStore }): ChargingConnector => {
  const view = startCsmsLiveView({ client, health, store, ...timing });
  return {
    domain: "charging",
    client,
    store,
    view,
    recoverCommand: async (command) => {
      try {
        const record = await client.getCommand(command.id);
        if (record.status === "pending") return { status: "pending" };
        return toCommandReply({ ...record, status: record.status }, { stationId: command.target, action: command.action });
      } catch (error) {
        if (error instanceof UpstreamHttpError && error.status === 404) return { status: "not_received", error: NEVER_RECEIVED };
        throw error;
      }
    },
    close: () => view.close(),
  };
};

/** The charging connector from the process settings, or null when CSMS_MANAGER_URL=off. */
export const connectCharging = (health: UpstreamHealth, e: Env = env()): ChargingConnector | null => {
  if (e.CSMS_MANAGER_URL === "off") return null;
  return createChargingConnector({ client: createCsmsClient({ baseUrl: e.CSMS_MANAGER_URL, token: e.csmsApiToken }), health });
};
