import "server-only";
import type { CommandView } from "../../commands/command-feed";
import type { CommandReply } from "../../commands/submit-command";
import { AppError } from "../../errors";
import type { LiveView } from "./live-view";

/** The upstream domains; each has at most one connector per console process. */
export type Domain = "charging" | "robots" | "flex" | "monitoring";

/**
 * What the upstream knows about a command the console sent before it restarted:
 * its outcome; still `pending` (ask again later); or `not_received` (it never arrived,
 * so nothing was done; `error` says so in the upstream's words).
 */
export type RecoveredCommand = CommandReply | { status: "pending" } | { status: "not_received"; error: string };

/** What every connector offers the rest of the console. */
export type Connector = {
  domain: Domain;
  /** The live view that keeps the domain's materialized state, if the connector keeps one. */
  view?: LiveView;
  /**
   * Asks the upstream what became of a command still `sent` (server/commands/reconcile-commands.ts).
   * Connectors whose upstream cannot say leave it out; their commands fall under the orphan rule.
   */
  recoverCommand?: (command: CommandView) => Promise<RecoveredCommand>;
  close: () => Promise<void>;
};

/**
 * Each domain's connector type, added by the connector's own module through declaration
 * merging (server/connectors/csms/index.ts adds `charging`), so `requireConnector("charging")`
 * is typed without this file knowing any domain. An interface because only interfaces merge.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ConnectorsByDomain {}

type ConnectorOf<D extends Domain> = D extends keyof ConnectorsByDomain ? ConnectorsByDomain[D] : Connector;

const g = globalThis as unknown as { __switchyardConnectorRegistry?: Map<string, Connector> };
// On globalThis: Next's separate server entries and hot reloads must see the same connectors.
const registry = () => (g.__switchyardConnectorRegistry ??= new Map());

/** Makes a connector the one its domain's routers use (replacing any earlier one). */
export const registerConnector = <D extends Domain>(connector: ConnectorOf<D> & { domain: D }) => {
  registry().set(connector.domain, connector);
};

export const unregisterConnector = (domain: Domain) => {
  registry().delete(domain);
};

export const getConnector = <D extends Domain>(domain: D): ConnectorOf<D> | undefined => registry().get(domain) as ConnectorOf<D> | undefined;

export const listConnectors = (): Connector[] => [...registry().values()];

/** By a domain name read from data (a Command row's `domain`), which may name no connector at all. */
export const findConnector = (domain: string): Connector | undefined => registry().get(domain);

/** The running connector of a domain, or a clear refusal the browser shows as is. */
export const requireConnector = <D extends Domain>(domain: D): ConnectorOf<D> => {
  const connector = getConnector(domain);
  if (!connector) throw new AppError("CONNECTOR_NOT_RUNNING", `The ${domain} connector is not running (its upstream is switched off in the settings, or connectors were not started).`);
  return connector;
};
