import fs from "node:fs";
import path from "node:path";
import { startFleet, type Fleet } from "../sim/ocpp/fleet";

/**
 * Extra charge stations a spec brings to the site under test: the real simulator
 * (sim/ocpp) over real websockets to the site's own gateway (its port pinned by
 * playwright.config.ts), registered with the site's manager like the demo fleet. A spec can
 * then put a station into a state the idle demo fleet never reaches (a fault).
 */
export const bringStations = async ({ prefix, count, ratio16 = 1 }: { prefix: string; count: number; ratio16?: number }): Promise<Fleet> => {
  const credentials = JSON.parse(fs.readFileSync(path.join(process.env.E2E_DATA_DIR!, "credentials.json"), "utf8")) as { secrets?: { siteToken?: string } };
  const fleet = await startFleet({
    url: `ws://127.0.0.1:${process.env.E2E_CSMS_GATEWAY_PORT}`,
    managerUrl: `http://127.0.0.1:${process.env.E2E_CSMS_MANAGER_PORT}`,
    managerToken: credentials.secrets?.siteToken,
    stations: count,
    idPrefix: prefix,
    ratio16,
    behaviour: "idle",
    seed: 11,
  });
  await fleet.ready;
  return fleet;
};
