import net from "node:net";
import { Aedes, type Client } from "aedes";
import type pino from "pino";
import { closeServer, listen, urlHost } from "../../lib/net";
import type { BrokerAuthenticator, BrokerIdentity } from "../site/module";
import { mayPublish, maySubscribe } from "./broker-acl";

/**
 * A closed aedes broker for a standalone flex node (and the tests): every client logs in,
 * and every publish and subscribe is checked against that client's ACL. Usernames are
 * routed by prefix to an authenticator (the node's devices: `flex-device-`); fixed
 * `users` cover the node itself and other components. The same hooks the site's embedded
 * broker calls, so one rule holds in both.
 */
export type DeviceBrokerOptions = {
  host?: string;
  /** Never 1883 (a system broker may own it); 0 picks a free port. */
  port: number;
  authenticators: { prefix: string; authenticate: BrokerAuthenticator }[];
  users?: { username: string; password: string; identity: BrokerIdentity }[];
  log: pino.Logger;
};

export const startDeviceBroker = async ({ host = "127.0.0.1", port, authenticators, users = [], log }: DeviceBrokerOptions) => {
  if (port === 1883) throw new Error("an embedded broker must not use port 1883 (reserved for a system broker)");
  const identities = new WeakMap<Client, BrokerIdentity>();
  const refused = { login: 0, publish: 0, subscribe: 0 };
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const fail = () => {
        refused.login++;
        const error = Object.assign(new Error("bad username or password"), { returnCode: 4 });
        done(error as never, false);
      };
      if (!username || !password) return fail();
      const fixed = users.find((u) => u.username === username);
      if (fixed) {
        if (fixed.password !== password.toString()) return fail();
        identities.set(client, fixed.identity);
        return done(null, true);
      }
      const auth = authenticators.find((a) => username.startsWith(a.prefix));
      if (!auth) return fail();
      Promise.resolve(auth.authenticate(username, password)).then(
        (identity) => {
          if (!identity) return fail();
          identities.set(client, identity);
          done(null, true);
        },
        () => fail(),
      );
    },
    authorizePublish: (client, packet, done) => {
      const identity = client ? identities.get(client) : undefined;
      if (identity && mayPublish(identity, packet.topic)) return done(null);
      refused.publish++;
      log.debug({ clientId: client?.id, topic: packet.topic }, "publish refused by ACL");
      done(new Error("publish not allowed"));
    },
    authorizeSubscribe: (client, sub, done) => {
      const identity = identities.get(client);
      if (identity && maySubscribe(identity, sub.topic)) return done(null, sub);
      refused.subscribe++;
      log.debug({ clientId: client.id, topic: sub.topic }, "subscribe refused by ACL");
      // A null subscription makes aedes answer SUBACK 0x80 (failure) for this filter.
      done(null, null);
    },
  });
  broker.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "mqtt client error"));
  broker.on("connectionError", (_client, error) => log.debug({ err: error.message }, "mqtt connection error"));
  const server = net.createServer({ noDelay: true }, broker.handle);
  let actual: number;
  try {
    actual = await listen(server, port, host);
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw new Error(`flex broker could not listen on ${host}:${port}: ${(error as Error).message}`);
  }
  return {
    url: `mqtt://${urlHost(host)}:${actual}`,
    refused,
    clients: () => broker.connectedClients,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closeServer(server);
    },
  };
};
export type DeviceBroker = Awaited<ReturnType<typeof startDeviceBroker>>;

/** The node's own login on a closed broker: every flex topic, both ways. */
export const nodeIdentity = (username: string, topicRoot = "flex/v1"): BrokerIdentity => ({ username, publish: [`${topicRoot}/#`], subscribe: [`${topicRoot}/devices/+/offers`, `${topicRoot}/devices/+/ack`, `${topicRoot}/devices/+/telemetry`, `${topicRoot}/devices/+/status`, `${topicRoot}/#`] });
