import { randomBytes } from "node:crypto";
import { connect, type MqttClient } from "mqtt";
import type pino from "pino";
import { Counter, Gauge } from "prom-client";
import { pingRequestSchema, SITE_TOPICS, type PingResponse, type SiteHeartbeat, type SiteStatus } from "../../contracts/site";
import { generateSecret, type MqttAccount } from "../../lib/credentials";
import { logger as defaultLogger } from "../../lib/log";
import { withTimeout } from "../../lib/net";
import { createRegistry, startOpsServer } from "../lib/ops";
import { siteAccess, siteSecretNames } from "./access";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker";
import type { MqttCredentials, SiteContext, SiteModule, StartedSiteModule } from "./module";

export type SiteOptions = {
  /** An external broker (mqtt://, mqtts://, ws://, wss://). Unset → start the embedded aedes broker. */
  mqttUrl?: string;
  /** One account for every component on an external broker (overrides the per-component accounts). */
  mqttUsername?: string;
  mqttPassword?: string;
  /** Port of the embedded broker; 0 picks a free one. Ignored when `mqttUrl` is set. */
  mqttPort?: number;
  /** Interface for the embedded broker, the HTTP server and the modules' servers. */
  host?: string;
  /** Health and metrics port; 0 picks a free one. */
  httpPort?: number;
  heartbeatMs?: number;
  /** How long startSite waits for the first MQTT connection before giving up. */
  connectTimeoutMs?: number;
  clientId?: string;
  log?: pino.Logger;
  /** The domains to run (services/site/modules.ts in production; none by default). */
  modules?: SiteModule[];
  /** Where the modules read their settings (default: process.env). */
  env?: Record<string, string | undefined>;
  dataDir?: string;
  databaseUrl?: string;
  /** Secrets from credentials.json; those the modules need but are missing are generated in memory. */
  secrets?: Record<string, string>;
  /** Broker accounts per component (credentials.json); missing ones are generated in memory. */
  accounts?: Record<string, MqttAccount>;
  /** When set, /metrics (the site's and its modules') needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
};

export type Site = {
  mqttUrl: string;
  httpUrl: string;
  /** What the modules run (csms-manager, sim-ocpp, …). */
  services: string[];
  /** The settings the console needs to reach the modules, merged (e.g. CSMS_MANAGER_URL). */
  consoleEnv: Record<string, string>;
  /** A component's broker credentials (the console's, for the launcher and tests). */
  credentials: (component: string) => MqttCredentials;
  /** Publishes the offline status, then stops the modules, client, HTTP server and broker. Idempotent. */
  close: () => Promise<void>;
};

type MqttState = "connected" | "connecting" | "reconnecting" | "disconnected";

const createMetrics = (registry: ReturnType<typeof createRegistry>, getBrokerClients: () => number, isConnected: () => boolean) => {
  const messages = new Counter({
    name: "site_mqtt_messages_total",
    help: "MQTT messages handled by the site's client",
    labelNames: ["direction", "kind"] as const,
    registers: [registry],
  });
  const badPayloads = new Counter({
    name: "site_bad_payloads_total",
    help: "Inbound MQTT payloads rejected as malformed",
    labelNames: ["kind", "reason"] as const,
    registers: [registry],
  });
  // Zero-initialise the known series so dashboards and alerts see 0 rather than "no data".
  for (const reason of ["json", "schema"]) badPayloads.inc({ kind: "ping", reason }, 0);
  for (const [direction, kind] of [["in", "ping"], ["out", "status"], ["out", "heartbeat"], ["out", "ping-response"]]) messages.inc({ direction, kind }, 0);
  new Gauge({
    name: "site_broker_clients",
    help: "Clients connected to the embedded broker (0 when an external broker is used)",
    registers: [registry],
    collect() {
      this.set(getBrokerClients());
    },
  });
  new Gauge({
    name: "site_mqtt_connected",
    help: "1 while the site's MQTT client is connected",
    registers: [registry],
    collect() {
      this.set(isConnected() ? 1 : 0);
    },
  });
  return { messages, badPayloads };
};

/**
 * The site process: the embedded broker (closed: every component has its own account and
 * ACL) unless an external one is given, the site's status, heartbeat and ping answers,
 * /health and /metrics, and every enabled module on that broker.
 */
export const startSite = async (opts: SiteOptions = {}): Promise<Site> => {
  const log = opts.log ?? defaultLogger();
  const host = opts.host ?? "127.0.0.1";
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const env = opts.env ?? process.env;
  const modules = (opts.modules ?? []).filter((m) => m.enabled(env));
  const access = siteAccess(opts.modules ?? [], env);
  const startedAt = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  // On a failed start, undo whatever had already started so no port stays bound.
  const unwind = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  };

  const accounts: Record<string, MqttAccount> = Object.fromEntries(
    Object.keys(access).map((component) => [component, opts.accounts?.[component] ?? { username: component, password: generateSecret() }]),
  );
  const credentials = (component: string): MqttCredentials => {
    if (opts.mqttUrl && opts.mqttUsername) return { username: opts.mqttUsername, password: opts.mqttPassword };
    const account = accounts[component];
    if (!account) throw new Error(`no broker account for component ${component}: add it to its module's brokerAccess`);
    return account;
  };
  const secrets = { ...opts.secrets };
  for (const name of siteSecretNames(modules, env)) secrets[name] ??= generateSecret();

  try {
    const registry = createRegistry();
    let embedded: EmbeddedBroker | undefined;
    if (!opts.mqttUrl) {
      const users = Object.fromEntries(Object.entries(access).map(([component, a]) => [accounts[component].username, { ...a, password: accounts[component].password }]));
      embedded = await startEmbeddedBroker({ host, port: opts.mqttPort ?? 1884, users, registry, log });
      cleanups.push(embedded.close);
    }
    const mqttUrl = opts.mqttUrl ?? embedded!.url;

    const statusOffline = (extra: Partial<SiteStatus> = {}) =>
      JSON.stringify({ state: "offline", startedAt, pid: process.pid, ...extra } satisfies SiteStatus);

    const own = credentials("site");
    const client: MqttClient = connect(mqttUrl, {
      clientId: opts.clientId ?? `switchyard-site-${randomBytes(6).toString("hex")}`,
      username: own.username,
      password: own.password,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // A stale heartbeat replayed after a reconnect would lie about liveness.
      queueQoSZero: false,
      will: { topic: SITE_TOPICS.status, payload: Buffer.from(statusOffline({ reason: "connection lost" })), qos: 1, retain: true },
    });
    cleanups.push(() => client.endAsync(true));

    const metrics = createMetrics(
      registry,
      () => embedded?.clients() ?? 0,
      () => client.connected,
    );

    const mqttState = (): MqttState => {
      if (client.connected) return "connected";
      if (client.reconnecting) return "reconnecting";
      if (client.disconnecting || client.disconnected) return "disconnected";
      return "connecting";
    };

    const publish = (topic: string, payload: string, kind: string, options: { qos: 0 | 1; retain?: boolean }) => {
      client.publish(topic, payload, { qos: options.qos, retain: options.retain ?? false }, (error) => {
        if (error) log.warn({ topic, err: error.message }, "mqtt publish failed");
      });
      metrics.messages.inc({ direction: "out", kind });
    };

    // Every (re)connect re-announces online: the broker may have published the will while
    // we were away, and that retained "offline" must not outlive our return.
    client.on("connect", () => {
      log.info({ mqttUrl }, "site mqtt connected");
      publish(SITE_TOPICS.status, JSON.stringify({ state: "online", startedAt, pid: process.pid } satisfies SiteStatus), "status", { qos: 1, retain: true });
    });
    client.on("reconnect", () => log.info({ mqttUrl }, "site mqtt reconnecting"));
    client.on("offline", () => log.warn({ mqttUrl }, "site mqtt offline"));
    client.on("error", (error) => log.warn({ mqttUrl, err: error.message }, "site mqtt error"));

    const rejectPing = (reason: string, detail: string) => {
      metrics.badPayloads.inc({ kind: "ping", reason });
      log.warn({ topic: SITE_TOPICS.pingRequest, reason, detail }, "malformed ping payload ignored");
    };

    client.on("message", (topic, payload) => {
      metrics.messages.inc({ direction: "in", kind: topic === SITE_TOPICS.pingRequest ? "ping" : "other" });
      if (topic !== SITE_TOPICS.pingRequest) return;
      let body: unknown;
      try {
        body = JSON.parse(payload.toString("utf8"));
      } catch (error) {
        return rejectPing("json", (error as Error).message);
      }
      const parsed = pingRequestSchema.safeParse(body);
      if (!parsed.success) return rejectPing("schema", parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; "));
      const { id, sentAt } = parsed.data;
      const reply: PingResponse = { id, sentAt, answeredAt: Date.now() };
      publish(SITE_TOPICS.pingResponse(id), JSON.stringify(reply), "ping-response", { qos: 1 });
    });

    // Wait for the first connection so a caller that gets `ready` can rely on the site
    // being reachable; later outages are handled by mqtt.js reconnecting.
    await new Promise<void>((resolve, reject) => {
      const ms = opts.connectTimeoutMs ?? 15_000;
      const timer = setTimeout(() => reject(new Error(`could not connect to MQTT broker ${mqttUrl} within ${ms} ms`)), ms);
      client.once("connect", () => (clearTimeout(timer), resolve()));
    });
    // QoS 1 so the subscription is confirmed; mqtt.js re-subscribes after reconnects.
    await client.subscribeAsync(SITE_TOPICS.pingRequest, { qos: 1 });

    // The modules, in order, on the same broker; each stops before the broker does.
    const ctx: SiteContext = {
      env,
      host,
      dataDir: opts.dataDir ?? ".data",
      databaseUrl: opts.databaseUrl,
      mqtt: { url: mqttUrl, credentials },
      broker: embedded ? { registerAuthenticator: embedded.registerAuthenticator } : undefined,
      secrets,
      metricsToken: opts.metricsToken,
      log,
    };
    const started: StartedSiteModule[] = [];
    for (const m of modules) {
      const s = await m.start({ ...ctx, log: log.child({ module: m.name }) }).catch((error: Error) => {
        throw new Error(`site module ${m.name} failed to start: ${error.message}`);
      });
      started.push(s);
      cleanups.push(() => withTimeout(s.close(), 3000).then(() => undefined));
    }
    const services = started.flatMap((s) => s.services);
    const consoleEnv: Record<string, string> = Object.assign({}, ...started.map((s) => s.consoleEnv));

    const heartbeat = setInterval(() => {
      if (!client.connected) return;
      const beat: SiteHeartbeat = { at: Date.now(), uptimeSec: Math.round((Date.now() - startedAt) / 1000), services };
      publish(SITE_TOPICS.heartbeat, JSON.stringify(beat), "heartbeat", { qos: 0 });
    }, heartbeatMs);
    heartbeat.unref();
    cleanups.push(async () => clearInterval(heartbeat));

    const ops = await startOpsServer({
      host,
      port: opts.httpPort ?? 8090,
      registry,
      metricsToken: opts.metricsToken,
      check: () => {
        const state = mqttState();
        return {
          ok: state === "connected",
          broker: { embedded: Boolean(embedded), url: mqttUrl, clients: embedded?.clients() ?? 0 },
          mqtt: state,
          services,
          uptimeSec: Math.round((Date.now() - startedAt) / 1000),
        };
      },
    }).catch((error: Error) => {
      throw new Error(`site HTTP server could not listen on ${host}:${opts.httpPort ?? 8090}: ${error.message}`);
    });
    cleanups.push(ops.close);
    log.info({ mqttUrl, httpUrl: ops.url, embeddedBroker: Boolean(embedded), modules: modules.map((m) => m.name) }, "site started");

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        // A clean disconnect discards the will, so announce offline ourselves first.
        if (client.connected) {
          await withTimeout(
            client.publishAsync(SITE_TOPICS.status, statusOffline({ at: Date.now(), reason: "shutdown" }), { qos: 1, retain: true }),
            400,
          ).catch((error: unknown) => log.warn({ err: (error as Error).message }, "could not publish offline status"));
        }
        // The modules go first, while the broker is still there to hear them: the gateway
        // announces its stations offline, the manager flushes its batches.
        for (const s of [...started].reverse()) {
          await withTimeout(s.close(), 3000).catch((error: unknown) => log.warn({ err: (error as Error).message }, "a site module did not stop cleanly"));
        }
        // A graceful end waits for in-flight QoS 1 acks; if the broker is gone, force it.
        const ended = await withTimeout(client.endAsync().then(() => true), 300).catch(() => false);
        if (!ended) await client.endAsync(true).catch(() => {});
        await withTimeout(ops.close(), 200);
        if (embedded) await withTimeout(embedded.close(), 300);
        log.info("site stopped");
      })());

    return { mqttUrl, httpUrl: ops.url, services, consoleEnv, credentials, close };
  } catch (error) {
    await unwind();
    throw error;
  }
};
