import net from "node:net";
import { z } from "zod";
import { DEVICE_USERNAME_PREFIX } from "../../../contracts/flex/mqtt";
import { parseEnv, zBool, zPort } from "../../../lib/env";
import { startFlexFleet } from "../../../sim/flex/fleet";
import { ensureFlexCredentials } from "../../flex/credentials";
import { flexNodeEnvSchema } from "../../flex/env";
import { launchFlexNode } from "../../flex/launch";
import { nodeIdentity } from "../../flex/broker";
import type { FlexNode } from "../../flex/node";
import type { SiteModule } from "../module";

/**
 * The flexibility market inside the embedded site: a TSO node and a DSO node linked as
 * peers, a demo fleet of simulated devices on each, and — with the embedded broker — the
 * device logins (`flex-device-<id>`) checked by the node the device is registered with,
 * each confined to its own `flex/v1/devices/<id>/…` topics.
 */
const flexSiteEnvSchema = z.object({
  SITE_FLEX: zBool.default(true),
  SITE_FLEX_TSO_PORT: zPort.default(8200),
  SITE_FLEX_DSO_PORT: zPort.default(8201),
  SITE_SIM_FLEX_DEVICES: z.coerce.number().int().min(0).max(10_000).default(30),
  SITE_SIM_FLEX_SEED: z.coerce.number().int().default(1),
  SITE_SIM_FLEX_RANDOM: zBool.default(false),
  REDIS_URL: z.string().regex(/^rediss?:\/\//).optional(),
  FLEX_REDIS_PREFIX: z.string().min(1).default("switchyard:flex"),
  // The node's own timing settings, read the way `npm run flex` reads them.
  ...flexNodeEnvSchema.pick({ FLEX_PERIOD_MS: true, FLEX_BUNDLE_INTERVAL_MS: true, FLEX_STEP_MS: true, FLEX_SEND_CHUNK: true, FLEX_SIGN_BATCH: true, FLEX_ACTIVATION_QOS: true }).shape,
});

export const SITE_FLEX_NODES = [
  { nodeId: "flex-tso", role: "TSO" as const, trader: "tso-1", gridNodes: ["gn-central-1"], portKey: "SITE_FLEX_TSO_PORT" as const, devicesShare: 1 / 3 },
  { nodeId: "flex-dso-north", role: "DSO" as const, trader: "dso-north", gridNodes: ["gn-north-1", "gn-north-2"], portKey: "SITE_FLEX_DSO_PORT" as const, devicesShare: 2 / 3 },
];
/** The demo aggregator owning the simulated devices, and the console's EV-charger bridge. */
export const SITE_FLEX_FSPS = { demo: "fsp-demo", bridge: "fsp-ev" } as const;

/** Peers must know each other's address before either starts, so port 0 is resolved here. */
const reservePort = (host: string, port: number) =>
  port !== 0
    ? Promise.resolve(port)
    : new Promise<number>((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, host, () => {
          const { port: free } = s.address() as net.AddressInfo;
          s.close(() => resolve(free));
        });
      });

const pairs = (entries: [string, string][]) => entries.map(([k, v]) => `${k}=${v}`).join(",");

export const flexModule: SiteModule = {
  name: "flex",
  enabled: (env) => parseEnv(flexSiteEnvSchema.pick({ SITE_FLEX: true }), env).SITE_FLEX,
  // Each node's broker account: device topics only (devices themselves log in through the
  // authenticator registered below, each confined to its own prefix).
  brokerAccess: () =>
    Object.fromEntries(SITE_FLEX_NODES.map(({ nodeId }) => {
      const { publish, subscribe } = nodeIdentity(nodeId);
      return [nodeId, { publish, subscribe }];
    })),
  start: async (ctx) => {
    const env = parseEnv(flexSiteEnvSchema, ctx.env);
    const cleanups: (() => Promise<void>)[] = [];
    const close = async () => {
      for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => ctx.log.warn({ err: (error as Error).message }, "flex shutdown step failed"));
    };
    try {
      const prepared = await Promise.all(
        SITE_FLEX_NODES.map(async (spec) => ({
          spec,
          port: await reservePort(ctx.host, env[spec.portKey]),
          creds: ensureFlexCredentials({
            dataDir: ctx.dataDir,
            nodeId: spec.nodeId,
            participants: [
              { id: spec.trader, role: spec.role },
              { id: SITE_FLEX_FSPS.demo, role: "FSP" },
              { id: SITE_FLEX_FSPS.bridge, role: "FSP" },
            ],
          }),
        })),
      );
      const launched: ((typeof prepared)[number] & { node: FlexNode })[] = [];
      for (const p of prepared) {
        const mqtt = ctx.mqtt.credentials(p.spec.nodeId);
        const l = await launchFlexNode({
          nodeId: p.spec.nodeId,
          role: p.spec.role,
          host: ctx.host,
          port: p.port,
          gridNodes: p.spec.gridNodes,
          mqtt: { url: ctx.mqtt.url, username: mqtt.username, password: mqtt.password },
          dataDir: ctx.dataDir,
          keys: p.creds.keys,
          participants: p.creds.participants,
          consoleToken: p.creds.consoleToken,
          peers: prepared.filter((o) => o !== p).map((o) => ({ nodeId: o.spec.nodeId, url: `http://${ctx.host}:${o.port}`, publicKey: o.creds.keys.publicKey })),
          redisUrl: env.REDIS_URL,
          redisPrefix: env.FLEX_REDIS_PREFIX,
          timing: { periodMs: env.FLEX_PERIOD_MS, bundleIntervalMs: env.FLEX_BUNDLE_INTERVAL_MS, stepMs: env.FLEX_STEP_MS, sendChunk: env.FLEX_SEND_CHUNK, signBatch: env.FLEX_SIGN_BATCH, activationQos: env.FLEX_ACTIVATION_QOS },
          log: ctx.log.child({ component: p.spec.nodeId }),
        });
        cleanups.push(l.close);
        launched.push({ ...p, node: l.node });
      }
      // A device belongs to exactly one node; whichever knows it checks its password.
      ctx.broker?.registerAuthenticator(DEVICE_USERNAME_PREFIX, (username, password) => {
        for (const l of launched) {
          const identity = l.node.authenticateDevice(username, password);
          if (identity) return identity;
        }
        return null;
      });

      const services = launched.map((l) => l.spec.nodeId);
      if (env.SITE_SIM_FLEX_DEVICES > 0) {
        for (const l of launched) {
          const fleet = await startFlexFleet({
            nodeUrl: l.node.url,
            token: l.creds.participants.find((p) => p.id === SITE_FLEX_FSPS.demo)!.token,
            mqttUrl: ctx.mqtt.url,
            devices: Math.max(1, Math.round(env.SITE_SIM_FLEX_DEVICES * l.spec.devicesShare)),
            prefix: "demo",
            seed: env.SITE_SIM_FLEX_SEED,
            behaviour: env.SITE_SIM_FLEX_RANDOM ? "random" : "steady",
            log: ctx.log.child({ component: "sim-flex" }),
          });
          cleanups.push(fleet.close);
        }
        services.push("sim-flex");
      }

      const tokenOf = (l: (typeof launched)[number], id: string) => l.creds.participants.find((p) => p.id === id)!.token;
      return {
        services,
        consoleEnv: {
          FLEX_NODE_URLS: pairs(launched.map((l) => [l.spec.nodeId, l.node.url])),
          FLEX_CONSOLE_TOKEN: launched[0].creds.consoleToken,
          FLEX_TRADER_NODES: pairs(launched.map((l) => [l.spec.trader, l.spec.nodeId])),
          FLEX_TRADER_TOKENS: pairs(launched.map((l) => [l.spec.trader, tokenOf(l, l.spec.trader)])),
          FLEX_BRIDGE_TOKENS: pairs(launched.map((l) => [l.spec.nodeId, tokenOf(l, SITE_FLEX_FSPS.bridge)])),
        },
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  },
};
