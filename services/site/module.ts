import type pino from "pino";
import type { AccessTable } from "./acl";

/**
 * A domain as the embedded site runs it (charging, robots, flex, monitoring). The site
 * starts every enabled module in order on the same broker and host; a new domain plugs
 * into `npm start` by adding its module to services/site/modules.ts, nothing else.
 */
export type MqttCredentials = { username?: string; password?: string };

/**
 * What one authenticated broker client may do: MQTT topic filters (`+`, `#`) it may
 * publish to and subscribe to. Anything else is refused and counted. A level `%c` is the
 * client's own id, `%u` its username (e.g. `flex/device/%u/#`).
 */
export type BrokerIdentity = { username: string; publish: string[]; subscribe: string[] };

/** Checks a client's password; null refuses the connection. */
export type BrokerAuthenticator = (username: string, password: Buffer) => Promise<BrokerIdentity | null> | BrokerIdentity | null;

export type SiteContext = {
  /** The site's environment, for the module's own settings (parse it with its own schema). */
  env: Record<string, string | undefined>;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** The broker every module shares, and the credentials of one component on it. */
  mqtt: { url: string; credentials: (component: string) => MqttCredentials };
  /**
   * Present with the embedded broker only: a module whose devices connect to the broker
   * (flex devices, building gateways) authenticates the usernames under its prefix
   * (e.g. `flex-device-`) and gives each its ACL. External brokers use their own files.
   */
  broker?: { registerAuthenticator: (usernamePrefix: string, authenticate: BrokerAuthenticator) => void };
  /** Secrets generated into .data/credentials.json (siteToken, …). */
  secrets: Record<string, string>;
  /** When set, every /metrics the module serves needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  log: pino.Logger;
};

export type StartedSiteModule = {
  /** Names shown in the site's heartbeat and /health (e.g. csms-manager, sim-ocpp). */
  services: string[];
  /**
   * Settings the console needs to reach this module (e.g. CSMS_MANAGER_URL). The site puts
   * them on its ready line and the launcher passes them to the console as environment.
   */
  consoleEnv: Record<string, string>;
  close: () => Promise<void>;
};

export type SiteModule = {
  name: string;
  /** Read from the module's own settings (e.g. SITE_CSMS=0 disables charging). */
  enabled: (env: Record<string, string | undefined>) => boolean;
  /**
   * The module's broker components (their username is the component name) and what each
   * may publish and subscribe to; a `console` entry adds to what the console may read.
   * The embedded broker enforces it, `npm run mqtt:mosquitto-config` writes it for Mosquitto.
   */
  brokerAccess?: (env: Record<string, string | undefined>) => AccessTable;
  /** Names of random secrets the module needs in credentials.json (generated once, kept). */
  secrets?: string[];
  start: (ctx: SiteContext) => Promise<StartedSiteModule>;
};
