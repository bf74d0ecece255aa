import type pino from "pino";
import { createManagerAuthenticator } from "../csms/gateway/auth";
import { startGateway } from "../csms/gateway/gateway";
import { openManagerDb } from "../csms/manager/db";
import { startManager } from "../csms/manager/manager";
import { startFleet } from "../../sim/ocpp/fleet";

export type SiteCsmsOptions = {
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  host: string;
  /** 0 picks free ports. */
  managerPort: number;
  gatewayPort: number;
  dataDir: string;
  databaseUrl?: string;
  apiToken: string;
  gatewayToken: string;
  /** Simulated stations to run against the gateway (0 = none). */
  simStations: number;
  log: pino.Logger;
};

/**
 * The charging domain as the embedded site runs it: the CSMS manager, one gateway and a
 * demo fleet of simulated stations. They talk exactly as separate processes would —
 * through the broker, the manager's HTTP API and real websockets; only addresses differ.
 */
export const startSiteCsms = async (opts: SiteCsmsOptions) => {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => opts.log.warn({ err: (error as Error).message }, "csms shutdown step failed"));
  };
  try {
    const database = await openManagerDb({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, log: (line) => opts.log.info(line) });
    cleanups.push(database.close);
    const manager = await startManager({
      host: opts.host,
      port: opts.managerPort,
      mqttUrl: opts.mqttUrl,
      mqttUsername: opts.mqttUsername,
      mqttPassword: opts.mqttPassword,
      db: database.db,
      apiToken: opts.apiToken,
      gatewayToken: opts.gatewayToken,
      // Demo drivers swipe cards the manager has never seen; a real deployment manages tokens.
      acceptUnknownTokens: true,
      log: opts.log.child({ component: "csms-manager" }),
    });
    cleanups.push(manager.close);
    const gateway = await startGateway({
      host: opts.host,
      port: opts.gatewayPort,
      mqttUrl: opts.mqttUrl,
      mqttUsername: opts.mqttUsername,
      mqttPassword: opts.mqttPassword,
      authenticate: createManagerAuthenticator({ managerUrl: manager.url, token: opts.gatewayToken }),
      log: opts.log.child({ component: "csms-gateway" }),
    });
    cleanups.push(gateway.close);
    if (opts.simStations > 0) {
      const fleet = await startFleet({
        url: gateway.url,
        stations: opts.simStations,
        managerUrl: manager.url,
        managerToken: opts.apiToken,
        behaviour: "demo",
        log: opts.log.child({ component: "sim-ocpp" }),
      });
      cleanups.push(fleet.close);
    }
    return { managerUrl: manager.url, gatewayUrl: gateway.url, close };
  } catch (error) {
    await close();
    throw error;
  }
};
