import { createHmac } from "node:crypto";
import { z } from "zod";
import { updateCredentials } from "../../../lib/credentials";
import { parseEnv, zBool } from "../../../lib/env";
import { BUILDING_GATEWAY_USER_PREFIX, parseBuildingGatewayUsername } from "../../../contracts/monitoring";
import { monitoringEnvSchema } from "../../monitoring/env";
import { monitoringOptionsFromEnv } from "../../monitoring/options-from-env";
import { startMonitoring } from "../../monitoring/service";
import { startMonitoringSim, type Provisioned, type SimSite } from "../../../sim/monitoring/fleet";
import type { SiteContext, SiteModule, StartedSiteModule } from "../module";

/**
 * Monitoring in the embedded site: the service (on MONITORING_PORT, 8300) and a demo
 * simulator (solar sites in every region, one building of 100 devices per region behind a
 * gateway on the site's broker). Tokens and demo keys derive from the site token, so they
 * survive restarts without being written anywhere; the internal teams' raw-data key is put
 * in credentials.json. Building gateways log in to the embedded broker as
 * `building-gw:<region>/<building>` and may use `buildings/<region>/<building>/#` only.
 */
const moduleEnvSchema = monitoringEnvSchema.extend({
  MONITORING_CONSOLE_TOKEN: z.string().min(16).optional(),
  MONITORING_ADMIN_TOKEN: z.string().min(16).optional(),
  SITE_MONITORING: zBool.default(true),
  SITE_SIM_MONITORING: zBool.default(true),
  SITE_SIM_MONITORING_SITES: z.coerce.number().int().min(0).max(500).default(2),
  SITE_SIM_MONITORING_BUILDINGS: z.coerce.number().int().min(0).max(100).default(1),
  SITE_SIM_MONITORING_DEVICES: z.coerce.number().int().min(1).max(1000).default(100),
  SITE_SIM_MONITORING_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  SITE_SIM_MONITORING_FAULTS: z.enum(["random", "off"]).default("random"),
  SITE_SIM_MONITORING_SEED: z.coerce.number().int().min(0).default(1),
  /** A known alarm for end-to-end tests: the first site of each region gets a low cell after this long. */
  SITE_SIM_MONITORING_SCRIPTED_FAULT_MS: z.coerce.number().int().min(0).optional(),
});

const derive = (secret: string, purpose: string) => createHmac("sha256", secret).update(`monitoring:${purpose}`).digest("base64url");

export const startMonitoringModule = async (ctx: SiteContext, source: Record<string, string | undefined> = process.env): Promise<StartedSiteModule> => {
  const e = parseEnv(moduleEnvSchema, source);
  const siteToken = ctx.secrets.siteToken;
  if (!siteToken && (!e.MONITORING_CONSOLE_TOKEN || !e.MONITORING_ADMIN_TOKEN)) throw new Error("monitoring needs the site token (npm start generates one) or MONITORING_CONSOLE_TOKEN and MONITORING_ADMIN_TOKEN");
  const consoleToken = e.MONITORING_CONSOLE_TOKEN ?? derive(siteToken!, "console");
  const adminToken = e.MONITORING_ADMIN_TOKEN ?? derive(siteToken!, "admin");
  const log = ctx.log.child({ domain: "monitoring" });
  const service = await startMonitoring({
    ...monitoringOptionsFromEnv(e, source),
    host: ctx.host,
    port: e.MONITORING_PORT,
    dataDir: ctx.dataDir,
    consoleToken,
    adminToken,
    mqtt: { url: ctx.mqtt.url, ...ctx.mqtt.credentials("monitoring") },
    // Silence is judged against the simulator's own reporting interval.
    reportIntervalMs: Math.max(e.MONITORING_REPORT_INTERVAL_SEC * 1000, e.SITE_SIM_MONITORING_INTERVAL_MS),
    log,
  });
  const { registry } = service.core;
  const closers: (() => Promise<void>)[] = [service.close];
  const close = async () => {
    for (const fn of closers.splice(0).reverse()) await fn().catch((error: unknown) => log.warn({ err: (error as Error).message }, "monitoring shutdown step failed"));
  };
  try {
    ctx.broker?.registerAuthenticator(BUILDING_GATEWAY_USER_PREFIX, (username, password) => {
      const who = parseBuildingGatewayUsername(username);
      if (!who || !registry.checkGateway(who.region, who.building, password.toString("utf8"))) return null;
      const own = `buildings/${who.region}/${who.building}/#`;
      return { username, publish: [own], subscribe: [own] };
    });

    // One raw-data key for internal teams, readable in credentials.json.
    const rawKey = derive(siteToken ?? adminToken, "raw");
    await registry.createKey({ kind: "raw", name: "internal-teams", regions: e.MONITORING_REGIONS }, rawKey);
    updateCredentials(ctx.dataDir, (c) => ({ ...c, secrets: { ...c.secrets, monitoringRawKey: rawKey } }));

    const services = ["monitoring"];
    if (e.SITE_SIM_MONITORING) {
      // Stable demo keys: registered directly, since the module runs beside the service.
      const provision = async (sites: SimSite[]): Promise<Provisioned> => {
        const out: Provisioned = { ingestKeys: new Map(), gatewayPasswords: new Map() };
        for (const site of sites) {
          await registry.upsertSite(site);
          const secret = derive(siteToken ?? adminToken, `site:${site.id}`);
          if (site.kind === "solar") await registry.createKey({ kind: "ingest", site: site.id, sender: `SIM-${site.id}` }, secret).then(() => out.ingestKeys.set(site.id, secret));
          else await registry.createKey({ kind: "gateway", site: site.id }, secret).then(() => out.gatewayPasswords.set(site.id, secret));
        }
        return out;
      };
      const sim = await startMonitoringSim({
        url: service.url,
        regions: e.MONITORING_REGIONS,
        sitesPerRegion: e.SITE_SIM_MONITORING_SITES,
        buildingsPerRegion: ctx.broker ? e.SITE_SIM_MONITORING_BUILDINGS : 0,
        devicesPerBuilding: e.SITE_SIM_MONITORING_DEVICES,
        intervalMs: e.SITE_SIM_MONITORING_INTERVAL_MS,
        seed: e.SITE_SIM_MONITORING_SEED,
        faults: e.SITE_SIM_MONITORING_FAULTS,
        scriptedFaultAfterMs: e.SITE_SIM_MONITORING_SCRIPTED_FAULT_MS,
        mqttUrl: ctx.mqtt.url,
        provision,
        log: log.child({ component: "sim-monitoring" }),
      });
      closers.push(sim.close);
      services.push("sim-monitoring");
    }
    return { services, consoleEnv: { MONITORING_URL: service.url, MONITORING_CONSOLE_TOKEN: consoleToken }, close };
  } catch (error) {
    await close();
    throw error;
  }
};

export const monitoringModule: SiteModule = {
  name: "monitoring",
  enabled: (env) => env.SITE_MONITORING !== "0" && env.SITE_MONITORING !== "false",
  // The service reads every building's telemetry and may send building commands; each
  // gateway itself is confined to its own building by the authenticator above.
  brokerAccess: () => ({ monitoring: { publish: ["buildings/+/+/+/command"], subscribe: ["buildings/+/+/+/telemetry"] } }),
  secrets: ["siteToken"],
  start: (ctx) => startMonitoringModule(ctx, ctx.env),
};
