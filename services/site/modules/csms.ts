import path from "node:path";
import { z } from "zod";
import { DEFAULT_TOPIC_PREFIX } from "../../../contracts/csms/mqtt";
import { parseEnv, zBool, zPort } from "../../../lib/env";
import { persistentPasswords, startFleet } from "../../../sim/ocpp/fleet";
import { csmsBrokerAccess, CSMS_COMPONENTS } from "../../csms/broker-access";
import { createManagerAuthenticator } from "../../csms/gateway/auth";
import { startGateway } from "../../csms/gateway/gateway";
import { openManagerDb } from "../../csms/manager/db";
import { startManager } from "../../csms/manager/manager";
import type { SiteModule } from "../module";

/** The charging domain's settings inside the site (docs/configuration.md lists them). */
export const csmsSiteEnvSchema = z.object({
  SITE_CSMS: zBool.default(true),
  /** Simulated stations to run against the gateway (0 = none). */
  SITE_SIM_STATIONS: z.coerce.number().int().min(0).max(5000).default(50),
  /** A fixed seed makes the demo fleet the same on every start (e2e); unset → random. */
  SITE_SIM_SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),
  /** 0 = no random plug-ins, departures or faults: stations only do what they are asked (e2e). */
  SITE_SIM_EVENTS: zBool.default(true),
  CSMS_MANAGER_PORT: zPort.default(9410),
  CSMS_GATEWAY_PORT: zPort.default(9310),
  CSMS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, "topic levels of letters, digits, _ and -").default(DEFAULT_TOPIC_PREFIX),
  /** Unset → `siteToken` from credentials.json. */
  CSMS_API_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Unset → `csmsGatewayToken` from credentials.json (random, generated once). */
  CSMS_GATEWAY_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
});

const settings = (env: Record<string, string | undefined>) => parseEnv(csmsSiteEnvSchema, env);

/**
 * The charging domain as the embedded site runs it: the CSMS manager, one gateway and a
 * demo fleet of simulated stations. They talk exactly as separate processes would —
 * through the broker (each with its own account), the manager's HTTP API and real
 * websockets; only addresses differ.
 */
export const csmsModule: SiteModule = {
  name: "csms",
  enabled: (env) => settings(env).SITE_CSMS,
  brokerAccess: (env) => csmsBrokerAccess(settings(env).CSMS_TOPIC_PREFIX),
  secrets: ["siteToken", "csmsGatewayToken"],
  start: async (ctx) => {
    const e = settings(ctx.env);
    const apiToken = e.CSMS_API_TOKEN ?? ctx.secrets.siteToken;
    const gatewayToken = e.CSMS_GATEWAY_TOKEN ?? ctx.secrets.csmsGatewayToken;
    if (!apiToken || apiToken.length < 16) throw new Error("Invalid configuration:\n  CSMS_API_TOKEN: required (16+ characters) to run the charging domain; npm start generates one");
    const log = ctx.log.child({ domain: "charging" });
    const cleanups: (() => Promise<void>)[] = [];
    const close = async () => {
      for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log.warn({ err: (error as Error).message }, "csms shutdown step failed"));
    };
    try {
      const database = await openManagerDb({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir, log: (line) => log.info(line) });
      cleanups.push(database.close);
      // Each component on the broker with its own account, as separate processes would be.
      const on = (component: string) => {
        const { username, password } = ctx.mqtt.credentials(component);
        return { host: ctx.host, mqttUrl: ctx.mqtt.url, mqttUsername: username, mqttPassword: password, topicPrefix: e.CSMS_TOPIC_PREFIX, metricsToken: ctx.metricsToken };
      };
      const manager = await startManager({
        ...on(CSMS_COMPONENTS.manager),
        port: e.CSMS_MANAGER_PORT,
        db: database.db,
        apiToken,
        gatewayToken,
        // Demo drivers swipe cards the manager has never seen; a real deployment manages tokens.
        acceptUnknownTokens: true,
        log: log.child({ component: "csms-manager" }),
      });
      cleanups.push(manager.close);
      const gateway = await startGateway({
        ...on(CSMS_COMPONENTS.gateway),
        port: e.CSMS_GATEWAY_PORT,
        authenticate: createManagerAuthenticator({ managerUrl: manager.url, token: gatewayToken }),
        log: log.child({ component: "csms-gateway" }),
      });
      cleanups.push(gateway.close);
      if (e.SITE_SIM_STATIONS > 0) {
        const fleet = await startFleet({
          url: gateway.url,
          stations: e.SITE_SIM_STATIONS,
          managerUrl: manager.url,
          managerToken: apiToken,
          // Random per station, kept across restarts in the data dir (never derivable from the id).
          passwordFor: persistentPasswords(path.join(ctx.dataDir, "csms-station-passwords.json")),
          behaviour: e.SITE_SIM_EVENTS ? "demo" : "idle",
          seed: e.SITE_SIM_SEED,
          log: log.child({ component: "sim-ocpp" }),
        });
        cleanups.push(fleet.close);
      }
      return {
        services: ["csms-manager", "csms-gateway", ...(e.SITE_SIM_STATIONS > 0 ? ["sim-ocpp"] : [])],
        consoleEnv: { CSMS_MANAGER_URL: manager.url },
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  },
};
