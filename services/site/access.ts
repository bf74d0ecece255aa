import { SITE_TOPICS } from "../../contracts/site";
import { mergeAccess, type AccessTable } from "./acl";
import type { SiteModule } from "./module";

/**
 * The site's own broker components: the site process (status, heartbeat, ping answers) and
 * the console, which only observes (it reads the site's heartbeat and status and may ask
 * for a ping). Modules add their own components and widen what the console reads.
 */
export const SITE_CORE_ACCESS: AccessTable = {
  site: { publish: [SITE_TOPICS.all], subscribe: [SITE_TOPICS.all] },
  console: { publish: [SITE_TOPICS.pingRequest], subscribe: [SITE_TOPICS.heartbeat, SITE_TOPICS.status, SITE_TOPICS.pingResponseWildcard] },
};

/**
 * Every component of the site and its modules, and what each may do on the broker. A
 * disabled module's components keep their accounts: its services may run as separate
 * processes against the site's broker (SITE_CSMS=0 plus a standalone manager and gateway).
 */
export const siteAccess = (modules: SiteModule[], env: Record<string, string | undefined>): AccessTable =>
  mergeAccess(SITE_CORE_ACCESS, ...modules.map((m) => m.brokerAccess?.(env) ?? {}));

/** The random secrets the enabled modules need (siteToken, csmsGatewayToken, …). */
export const siteSecretNames = (modules: SiteModule[], env: Record<string, string | undefined>) => [
  ...new Set(modules.filter((m) => m.enabled(env)).flatMap((m) => m.secrets ?? [])),
];
