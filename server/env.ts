import { isIP } from "node:net";
import { z } from "zod";
import { readCredentials } from "../lib/credentials";
import { parseEnv, zBool, zDatabaseUrl, zEmbeddedMqttPort, zList, zLogLevel, zMqttUrl, zPort } from "../lib/env";

/**
 * Every setting Switchyard reads, validated once, with embedded defaults so that
 * `npm start` needs none of them. docs/configuration.md lists each one; keep both in step.
 */
const port = zPort;
const bool = zBool;
const list = zList;

/** An IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
const isAddressOrRange = (entry: string) => {
  const [address, prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
};
const zAddressList = list.superRefine((entries, ctx) => {
  const bad = entries.filter((e) => !isAddressOrRange(e));
  if (bad.length) ctx.addIssue({ code: "custom", message: `not an IP address or CIDR range: ${bad.join(", ")}` });
});

/** `key=value,…` (flex node URLs and tokens). */
const zPairs = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const entry of s.split(",").map((x) => x.trim()).filter(Boolean)) {
    const eq = entry.indexOf("=");
    if (eq <= 0 || eq === entry.length - 1) {
      ctx.addIssue({ code: "custom", message: `not key=value: ${entry.slice(0, 40)}` });
      return z.NEVER;
    }
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
});

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: zLogLevel.default("info"),
  /** Where embedded state lives: PGlite data dirs, credentials.json. */
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
  /** Unset → embedded PGlite in <data dir>/console; postgres://… → that server. */
  DATABASE_URL: zDatabaseUrl.optional(),

  CONSOLE_HOST: z.string().default("127.0.0.1"),
  CONSOLE_PORT: port.default(3000),
  /** The URL browsers use; cookies are Secure when it is https. */
  PUBLIC_URL: z.url().optional(),
  /** Secret for session signing; `npm start` generates one into credentials.json. */
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  SESSION_TTL_HOURS: z.coerce.number().positive().default(8),
  /** Failed sign-ins per account within the window before further attempts are refused. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  LOGIN_FAILURE_WINDOW_MINUTES: z.coerce.number().positive().default(15),
  /** Failed sign-ins from one address across all accounts before its attempts are slowed down (spraying). */
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().positive().default(30),
  /** The wait after the last failure allowed at full speed; each further failure doubles it… */
  LOGIN_FIRST_DELAY_SECONDS: z.coerce.number().positive().max(3600).default(1),
  /** …up to this. */
  LOGIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated); none by default. */
  TRUSTED_PROXIES: zAddressList.default([]),
  /** Largest request body /api/trpc and /api/auth read; bigger ones get 413 before any auth work. */
  MAX_REQUEST_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Optional generic OIDC single sign-on (all three must be set to enable it). */
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  OIDC_DISPLAY_NAME: z.string().default("SSO"),
  OIDC_DEFAULT_ROLE: z.enum(["admin", "operator", "trader", "support", "viewer"]).default("viewer"),

  /** Unset → the site's embedded broker (aedes) at mqtt://127.0.0.1:<MQTT_PORT>. */
  MQTT_URL: zMqttUrl.optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  /** Port of the embedded broker. Never 1883: a system Mosquitto may own it. */
  MQTT_PORT: zEmbeddedMqttPort.default(1884),

  SITE_HOST: z.string().default("127.0.0.1"),
  /** The site process's health and metrics port. */
  SITE_PORT: port.default(8090),
  /** Monitoring regions users can be granted. */
  MONITORING_REGIONS: list.default(["eu-north", "eu-west", "ap-southeast"]),
  /** The monitoring service's summary API (sites, devices, series, alarms, flags, live feed); unset or "off" disables the monitoring connector. */
  MONITORING_URL: z
    .union([z.literal("off"), z.url({ protocol: /^https?$/ })])
    .optional()
    .transform((u) => (u === undefined || u === "off" ? u : u.replace(/\/+$/, ""))),
  /** Bearer token of the summary API; `npm start` derives it from the site token and passes it. */
  MONITORING_CONSOLE_TOKEN: z.string().min(16).optional(),

  /** The CSMS manager's HTTP API (stations, commands, live feed); "off" disables the charging connector. */
  CSMS_MANAGER_URL: z
    .union([z.literal("off"), z.url({ protocol: /^https?$/ })])
    .default("http://127.0.0.1:9410")
    .transform((u) => (u === "off" ? u : u.replace(/\/+$/, ""))),
  /** Bearer token for the manager's API; `npm start` generates one into credentials.json (siteToken). */
  CSMS_API_TOKEN: z.string().min(1).optional(),
  /** How long the console waits for a charging command's outcome (a bit longer than the manager's 15 s). */
  CSMS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(20_000),

  /** The site's embedded charging domain: manager API and gateway ports (0 = free port). */
  CSMS_MANAGER_PORT: port.default(9410),
  CSMS_GATEWAY_PORT: port.default(9310),
  /** Shared secret the gateway presents to the manager's auth lookup; derived from siteToken when unset. */
  CSMS_GATEWAY_TOKEN: z.string().min(16).optional(),
  /** Set to 0 to run the site without the charging domain (the console then shows it as down). */
  SITE_CSMS: bool.default(true),
  /** Simulated charge stations the site runs at demo scale. */
  SITE_SIM_STATIONS: z.coerce.number().int().min(0).max(5000).default(50),

  /** Where the console reads robots (an RMF proxy, or an rmf-web api-server: socket.io + REST); "off" disables the robots connector. */
  RMF_URL: z
    .union([z.literal("off"), z.url({ protocol: /^https?$/ })])
    .default("http://127.0.0.1:8001")
    .transform((u) => (u === "off" ? u : u.replace(/\/+$/, ""))),
  /** Where robot commands go (RMF main); unset → RMF_URL (a single rmf-web api-server). */
  RMF_MAIN_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .transform((u) => u?.replace(/\/+$/, "")),
  /** HS256 secret the console signs RMF tokens with; unset → `rmfJwtSecret` in credentials.json (npm start writes it). */
  RMF_JWT_SECRET: z.string().min(16).optional(),
  RMF_JWT_ISSUER: z.string().min(1).default("switchyard"),
  /** How long the console waits for a robot command's answer (main waits 5 s for RMF). */
  RMF_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(15_000),
  /** The flex nodes the console follows, `nodeId=url,…` (the launcher passes the site's); unset or "off" disables the flex connector. */
  FLEX_NODE_URLS: z
    .union([z.literal("off"), zPairs.refine((m) => Object.values(m).every((u) => /^https?:\/\/[^\s]+$/.test(u)), "each node needs an http(s) URL: nodeId=http://host:port")])
    .optional(),
  /** The flex nodes' read-everything token (same on every node); unset → credentials.json (flex.consoleToken). */
  FLEX_CONSOLE_TOKEN: z.string().min(16).optional(),
  /** Which node holds each trader participant, `participantId=nodeId,…`. */
  FLEX_TRADER_NODES: zPairs.optional(),
  /** Each trader participant's token, `participantId=token,…`: the console acts for a trader with it. */
  FLEX_TRADER_TOKENS: zPairs.optional(),
  /** The EV-charger bridge's FSP token per node, `nodeId=token,…`. */
  FLEX_BRIDGE_TOKENS: zPairs.optional(),
  /** How long the console waits for a flex node to answer a trader action. */
  FLEX_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),

  /** Live feeds: coalescing window per browser and how many events a feed can replay. */
  LIVE_BATCH_MS: z.coerce.number().int().min(0).max(5000).default(250),
  LIVE_BUFFER_SIZE: z.coerce.number().int().min(16).default(2048),
  /** How often a live stream re-checks its session (at most 30 s; changes on this replica end it at once). */
  LIVE_SESSION_RECHECK_MS: z.coerce.number().int().min(100).max(30_000).default(30_000),
  /** Set to 1 to skip starting upstream connectors (unit tests). */
  SWITCHYARD_NO_CONNECTORS: bool.default(false),
});

export type Env = z.infer<typeof envSchema> & { authSecret: string; publicUrl: string; mqttUrl: string; csmsApiToken: string | undefined; flexConsoleToken: string | undefined };


const INSECURE_DEV_SECRET = "switchyard-development-secret-do-not-use-in-production";

export const loadEnv = (source: Record<string, string | undefined> = process.env): Env => {
  const e = parseEnv(envSchema, source);
  const authSecret =
    e.BETTER_AUTH_SECRET ??
    readCredentials(e.SWITCHYARD_DATA_DIR).secrets?.betterAuthSecret ??
    (e.NODE_ENV === "production" ? undefined : INSECURE_DEV_SECRET);
  if (!authSecret) throw new Error("Invalid configuration:\n  BETTER_AUTH_SECRET: required in production (npm start generates one)");
  return {
    ...e,
    authSecret,
    publicUrl: e.PUBLIC_URL ?? `http://${e.CONSOLE_HOST === "0.0.0.0" ? "127.0.0.1" : e.CONSOLE_HOST}:${e.CONSOLE_PORT}`,
    mqttUrl: e.MQTT_URL ?? `mqtt://127.0.0.1:${e.MQTT_PORT}`,
    csmsApiToken: e.CSMS_API_TOKEN ?? readCredentials(e.SWITCHYARD_DATA_DIR).secrets?.siteToken,
    flexConsoleToken: e.FLEX_CONSOLE_TOKEN ?? (readCredentials(e.SWITCHYARD_DATA_DIR).flex as { consoleToken?: string } | undefined)?.consoleToken,
  };
};

const g = globalThis as unknown as { __switchyardEnv?: Env };
/** The process's settings, read once. */
export const env = (): Env => (g.__switchyardEnv ??= loadEnv());
