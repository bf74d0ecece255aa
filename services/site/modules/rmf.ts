import { z } from "zod";
import { generateSecret, updateCredentials } from "../../../lib/credentials";
import { parseEnv, zBool, zPort } from "../../../lib/env";
import { startRmfSim } from "../../../sim/rmf/rmf-sim";
import { openRmfDb } from "../../rmf/main/db";
import { startMain } from "../../rmf/main/server";
import { startProxy } from "../../rmf/proxy/proxy";
import type { SiteModule } from "../module";

/**
 * Robots in the embedded site: RMF main, one fan-out proxy and a demo fleet simulator, each
 * on real sockets exactly as separate processes would run them. The console reads through
 * the proxy (`RMF_URL`, the path operators use every day) and sends commands to main
 * (`RMF_MAIN_URL`); it signs each user's JWT with `RMF_JWT_SECRET` / `RMF_JWT_ISSUER`.
 */
const rmfSiteEnvSchema = z.object({
  SITE_RMF: zBool.default(true),
  RMF_MAIN_PORT: zPort.default(8000),
  RMF_PROXY_PORT: zPort.default(8001),
  RMF_JWT_ISSUER: z.string().min(1).default("switchyard"),
  SITE_SIM_ROBOTS: z.coerce.number().int().min(0).max(2000).default(8),
  SITE_RMF_SEED: z.coerce.number().int().min(0).default(1),
  SITE_RMF_EVENTS: zBool.default(true),
  SITE_RMF_AUTO_TASKS_SEC: z.coerce.number().min(0).max(86_400).default(45),
  /** Simulated seconds per second (an e2e test can watch a whole delivery in seconds). */
  SITE_RMF_SPEED: z.coerce.number().min(0.1).max(100).default(1),
});

/** For a caller that did not go through the site (tests): the same secrets, generated once. */
const ensureRmfSecrets = (dataDir: string) =>
  updateCredentials(dataDir, (c) => ({
    ...c,
    secrets: { ...c.secrets, rmfJwtSecret: c.secrets?.rmfJwtSecret ?? generateSecret(), rmfInternalToken: c.secrets?.rmfInternalToken ?? generateSecret() },
  })).secrets as Record<string, string>;

export const rmfSiteModule: SiteModule = {
  name: "robots",
  enabled: (env) => parseEnv(rmfSiteEnvSchema, env).SITE_RMF,
  // Generated once into credentials.json by the site (kept across restarts).
  secrets: ["rmfJwtSecret", "rmfInternalToken"],
  start: async (ctx) => {
    const e = parseEnv(rmfSiteEnvSchema, ctx.env);
    const secrets = ctx.secrets.rmfJwtSecret && ctx.secrets.rmfInternalToken ? ctx.secrets : ensureRmfSecrets(ctx.dataDir);
    const jwtSecret = ctx.env.RMF_JWT_SECRET ?? secrets.rmfJwtSecret!;
    const internalToken = ctx.env.RMF_INTERNAL_TOKEN ?? secrets.rmfInternalToken!;
    const log = ctx.log.child({ domain: "robots" });
    const cleanups: (() => Promise<void>)[] = [];
    const close = async () => {
      for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log.warn({ err: (error as Error).message }, "robots shutdown step failed"));
    };
    try {
      const database = await openRmfDb({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir, log: (line) => log.info(line) });
      cleanups.push(database.close);
      const main = await startMain({ host: ctx.host, port: e.RMF_MAIN_PORT, db: database.db, jwtSecret, jwtIssuer: e.RMF_JWT_ISSUER, internalToken, log: log.child({ component: "rmf-main" }) });
      cleanups.push(main.close);
      const proxy = await startProxy({ host: ctx.host, port: e.RMF_PROXY_PORT, mainUrl: main.url, jwtSecret, jwtIssuer: e.RMF_JWT_ISSUER, proxyId: "site-proxy", log: log.child({ component: "rmf-proxy" }) });
      cleanups.push(proxy.close);
      const services = ["rmf-main", "rmf-proxy"];
      if (e.SITE_SIM_ROBOTS > 0) {
        const sim = await startRmfSim({
          mainUrl: main.url,
          token: internalToken,
          robots: e.SITE_SIM_ROBOTS,
          fleets: Math.min(2, e.SITE_SIM_ROBOTS),
          seed: e.SITE_RMF_SEED,
          randomEvents: e.SITE_RMF_EVENTS,
          autoTaskEverySec: e.SITE_RMF_AUTO_TASKS_SEC,
          speed: e.SITE_RMF_SPEED,
          log: log.child({ component: "sim-rmf" }),
        });
        cleanups.push(sim.close);
        services.push("sim-rmf");
      }
      return {
        services,
        consoleEnv: { RMF_URL: proxy.url, RMF_MAIN_URL: main.url, RMF_JWT_SECRET: jwtSecret, RMF_JWT_ISSUER: e.RMF_JWT_ISSUER },
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  },
};
