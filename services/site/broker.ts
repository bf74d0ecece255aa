import net from "node:net";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import type pino from "pino";
import { Counter, type Registry } from "prom-client";
import { closeServer, listen, urlHost } from "../../lib/net";
import { sameSecret } from "../lib/http";
import { resolveAccess, type Access, type ResolvedAccess } from "./acl";
import type { BrokerAuthenticator } from "./module";

/**
 * The site's embedded MQTT broker (aedes), closed: every client authenticates, and every
 * publish and subscribe is checked against that client's own access (services/site/acl.ts).
 * Anonymous clients and wrong passwords are refused at CONNECT; a publish outside the ACL
 * closes the connection (MQTT 3.1.1 has no negative PUBACK; MQTT-3.3.5-2) and a subscribe
 * outside it is answered 0x80. Every refusal is counted and logged.
 */

export type BrokerUser = Access & { password: string };

export type EmbeddedBrokerOptions = {
  host: string;
  port: number;
  /** Username → password and access (the site's components). */
  users: Record<string, BrokerUser>;
  registry: Registry;
  log: pino.Logger;
};

export type RefusalReason = "anonymous" | "bad_credentials" | "publish" | "subscribe";
const REFUSAL_REASONS: RefusalReason[] = ["anonymous", "bad_credentials", "publish", "subscribe"];

// A system Mosquitto may own 1883; binding there would either fail or, worse, make the
// site look healthy while talking to a different broker than the one it reports.
const FORBIDDEN_EMBEDDED_PORT = 1883;

// CONNACK return codes of MQTT 3.1.1 (what aedes speaks).
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

const refusedError = (returnCode: number, message: string) => Object.assign(new Error(message), { returnCode }) as AuthenticateError;

/**
 * Logs at most once per `intervalMs` per key, and at most `budget` lines per interval in
 * all, so neither one misbehaving client nor a swarm of made-up usernames floods the log
 * (the counter still counts every refusal).
 */
const createLogThrottle = (intervalMs: number, budget: number) => {
  const last = new Map<string, number>();
  let windowStart = 0;
  let used = 0;
  return (key: string) => {
    const now = Date.now();
    if (now - (last.get(key) ?? 0) < intervalMs) return false;
    if (now - windowStart >= intervalMs) {
      windowStart = now;
      used = 0;
    }
    if (used >= budget) return false;
    used += 1;
    last.set(key, now);
    if (last.size > 10_000) for (const [k, t] of last) if (now - t >= intervalMs) last.delete(k);
    return true;
  };
};

export const startEmbeddedBroker = async ({ host, port, users, registry, log }: EmbeddedBrokerOptions) => {
  if (port === FORBIDDEN_EMBEDDED_PORT) throw new Error("the embedded broker must not use port 1883 (reserved for a system broker)");
  const refused = new Counter({
    name: "site_mqtt_refused_total",
    help: "MQTT clients or packets the embedded broker refused, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  for (const reason of REFUSAL_REASONS) refused.inc({ reason }, 0);

  const authenticators: { prefix: string; authenticate: BrokerAuthenticator }[] = [];
  const access = new WeakMap<Client, ResolvedAccess & { username: string }>();
  const shouldLog = createLogThrottle(10_000, 20);

  const refuse = (reason: RefusalReason, details: Record<string, unknown>) => {
    refused.inc({ reason });
    if (shouldLog(`${reason}:${String(details.username ?? "")}`)) log.warn({ reason, ...details }, "mqtt refused");
  };

  /** The identity behind a username and password, or null. Never throws. */
  const identify = async (username: string, password: Buffer) => {
    const delegate = authenticators.find((a) => username.startsWith(a.prefix));
    if (delegate) {
      try {
        const identity = await delegate.authenticate(username, password);
        return identity && identity.username === username ? identity : null;
      } catch (error) {
        log.error({ username, err: (error as Error).message }, "broker authenticator failed");
        return null;
      }
    }
    const user = Object.hasOwn(users, username) ? users[username] : undefined;
    return user && sameSecret(password.toString("utf8"), user.password) ? { username, publish: user.publish, subscribe: user.subscribe } : null;
  };

  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const remote = (client.conn as Partial<net.Socket> | undefined)?.remoteAddress;
      if (!username) {
        refuse("anonymous", { clientId: client.id, remote });
        return done(refusedError(NOT_AUTHORIZED, "anonymous clients are not allowed"), false);
      }
      void identify(username, password ?? Buffer.alloc(0)).then((identity) => {
        if (!identity) {
          refuse("bad_credentials", { username, clientId: client.id, remote });
          return done(refusedError(BAD_USERNAME_OR_PASSWORD, "bad username or password"), false);
        }
        access.set(client, { username, ...resolveAccess(identity, { clientId: client.id, username }) });
        done(null, true);
      });
    },
    authorizePublish: (client, packet, done) => {
      const who = client ? access.get(client) : undefined;
      if (who?.canPublish(packet.topic)) return done(null);
      refuse("publish", { username: who?.username, clientId: client?.id, topic: packet.topic });
      done(new Error(`not allowed to publish on ${packet.topic}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const who = access.get(client);
      if (who?.canSubscribe(sub.topic)) return done(null, sub);
      refuse("subscribe", { username: who?.username, clientId: client.id, topic: sub.topic });
      // null (not an error) answers this one filter with 0x80 and keeps the connection.
      done(null, null);
    },
  });
  const server = net.createServer({ noDelay: true }, broker.handle);
  // Client errors (resets, protocol violations, refused publishes) are per connection; log
  // them instead of letting them surface as unhandled 'error' events.
  broker.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "mqtt client error"));
  broker.on("connectionError", (_client, error) => log.debug({ err: error.message }, "mqtt connection error"));
  let actualPort: number;
  try {
    actualPort = await listen(server, port, host);
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw new Error(`embedded MQTT broker could not listen on ${host}:${port}: ${(error as Error).message}`);
  }
  const close = async () => {
    // Closing the broker first ends every client connection, which lets server.close finish.
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await closeServer(server);
  };
  return {
    url: `mqtt://${urlHost(host)}:${actualPort}`,
    clients: () => broker.connectedClients,
    registerAuthenticator: (usernamePrefix: string, authenticate: BrokerAuthenticator) => {
      if (!usernamePrefix) throw new Error("an authenticator needs a username prefix");
      if (Object.keys(users).some((u) => u.startsWith(usernamePrefix))) throw new Error(`username prefix ${usernamePrefix} collides with a site component`);
      authenticators.push({ prefix: usernamePrefix, authenticate });
    },
    close,
  };
};
export type EmbeddedBroker = Awaited<ReturnType<typeof startEmbeddedBroker>>;
