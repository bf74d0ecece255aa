import "server-only";
import { env, type Env } from "../../env";
import type { UpstreamHealth } from "../health";
import { createCsmsClient } from "./client";
import { startCsmsLiveView, type CsmsLiveView } from "./live-view";

export { CsmsApiError, CsmsUnreachableError, createCsmsClient, type CsmsClient } from "./client";
export { startCsmsLiveView, type CsmsLiveView } from "./live-view";
export { chargingStore } from "./store";

/** The charging connector from the process settings, or null when CSMS_MANAGER_URL=off. */
export const connectCsms = (health: UpstreamHealth, e: Env = env()): CsmsLiveView | null => {
  if (e.CSMS_MANAGER_URL === "off") return null;
  return startCsmsLiveView({ client: createCsmsClient({ baseUrl: e.CSMS_MANAGER_URL, token: e.csmsApiToken }), health });
};
