import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { Aedes } from "aedes";
import { connect, type MqttClient } from "mqtt";
import type pino from "pino";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { logger as defaultLogger } from "../../lib/log";
import { startSiteCsms, type SiteCsmsOptions } from "./csms";
import { pingRequestSchema, SITE_TOPICS, type PingResponse, type SiteHeartbeat, type SiteStatus } from "../../contracts/site";
import { closeServer, listen, urlHost, withTimeout } from "../../lib/net";

export type SiteOptions = {
  /** An external broker (mqtt://, mqtts://, ws://, wss://). Unset → start the embedded aedes broker. */
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  /** Port of the embedded broker; 0 picks a free one. Ignored when `mqttUrl` is set. */
  mqttPort?: number;
  /** Interface for the embedded broker and the HTTP server. */
  host?: string;
  /** Health and metrics port; 0 picks a free one. */
  httpPort?: number;
  heartbeatMs?: number;
  /** How long startSite waits for the first MQTT connection before giving up. */
  connectTimeoutMs?: number;
  clientId?: string;
  log?: pino.Logger;
  /** Run the charging domain (CSMS manager, gateway, simulated stations) inside the site. */
  csms?: Omit<SiteCsmsOptions, "mqttUrl" | "mqttUsername" | "mqttPassword" | "host" | "log">;
};

export type Site = {
  mqttUrl: string;
  httpUrl: string;
  /** Present when the site runs the charging domain. */
  csms?: { managerUrl: string; gatewayUrl: string };
  /** Publishes the offline status, then stops the client, HTTP server and broker. Idempotent. */
  close: () => Promise<void>;
};

type MqttState = "connected" | "connecting" | "reconnecting" | "disconnected";

// A system Mosquitto may own 1883; binding there would either fail or, worse, make the
// site look healthy while talking to a different broker than the one it reports.
const FORBIDDEN_EMBEDDED_PORT = 1883;





const createMetrics = (getBrokerClients: () => number, isConnected: () => boolean) => {
  // A registry of its own: tests start several sites in one process, and the global
  // registry would refuse the second registration of the same metric name.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
  return { registry, messages, badPayloads };
};

const startEmbeddedBroker = async ({ host, port, log }: { host: string; port: number; log: pino.Logger }) => {
  if (port === FORBIDDEN_EMBEDDED_PORT) throw new Error("the embedded broker must not use port 1883 (reserved for a system broker)");
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  // Client errors (resets, protocol violations) are per connection; log them instead of
  // letting them surface as unhandled 'error' events.
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
  return { broker, url: `mqtt://${urlHost(host)}:${actualPort}`, close };
};

export const startSite = async (opts: SiteOptions = {}): Promise<Site> => {
  const log = opts.log ?? defaultLogger();
  const host = opts.host ?? "127.0.0.1";
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const startedAt = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  // On a failed start, undo whatever had already started so no port stays bound.
  const unwind = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  };

  try {
    const embedded = opts.mqttUrl ? undefined : await startEmbeddedBroker({ host, port: opts.mqttPort ?? 1884, log });
    if (embedded) cleanups.push(embedded.close);
    const mqttUrl = opts.mqttUrl ?? embedded!.url;

    const statusOffline = (extra: Partial<SiteStatus> = {}) =>
      JSON.stringify({ state: "offline", startedAt, pid: process.pid, ...extra } satisfies SiteStatus);

    const client: MqttClient = connect(mqttUrl, {
      clientId: opts.clientId ?? `switchyard-site-${randomBytes(6).toString("hex")}`,
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // A stale heartbeat replayed after a reconnect would lie about liveness.
      queueQoSZero: false,
      will: { topic: SITE_TOPICS.status, payload: Buffer.from(statusOffline({ reason: "connection lost" })), qos: 1, retain: true },
    });
    cleanups.push(() => client.endAsync(true));

    const metrics = createMetrics(
      () => embedded?.broker.connectedClients ?? 0,
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
      const timer = setTimeout(
        () => reject(new Error(`could not connect to MQTT broker ${mqttUrl} within ${opts.connectTimeoutMs ?? 15_000} ms`)),
        opts.connectTimeoutMs ?? 15_000,
      );
      client.once("connect", () => (clearTimeout(timer), resolve()));
    });
    // QoS 1 so the subscription is confirmed; mqtt.js re-subscribes after reconnects.
    await client.subscribeAsync(SITE_TOPICS.pingRequest, { qos: 1 });

    const csms = opts.csms
      ? await startSiteCsms({ ...opts.csms, mqttUrl, mqttUsername: opts.mqttUsername, mqttPassword: opts.mqttPassword, host, log: log.child({ domain: "charging" }) })
      : undefined;
    if (csms) cleanups.push(csms.close);
    const services = csms ? ["csms-manager", "csms-gateway", ...(opts.csms!.simStations > 0 ? ["sim-ocpp"] : [])] : [];

    const heartbeat = setInterval(() => {
      if (!client.connected) return;
      const beat: SiteHeartbeat = { at: Date.now(), uptimeSec: Math.round((Date.now() - startedAt) / 1000), services };
      publish(SITE_TOPICS.heartbeat, JSON.stringify(beat), "heartbeat", { qos: 0 });
    }, heartbeatMs);
    heartbeat.unref();
    cleanups.push(async () => clearInterval(heartbeat));

    const sendJson = (res: http.ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };

    const server = http.createServer((req, res) => {
      const pathname = new URL(req.url ?? "/", "http://site").pathname;
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" });
      if (pathname === "/health") {
        const state = mqttState();
        return sendJson(res, state === "connected" ? 200 : 503, {
          status: state === "connected" ? "ok" : "unavailable",
          broker: { embedded: Boolean(embedded), url: mqttUrl, clients: embedded?.broker.connectedClients ?? 0 },
          mqtt: state,
          services,
          uptimeSec: Math.round((Date.now() - startedAt) / 1000),
        });
      }
      if (pathname === "/metrics") {
        metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { "content-type": metrics.registry.contentType });
            res.end(text);
          },
          (error: unknown) => sendJson(res, 500, { error: (error as Error).message }),
        );
        return;
      }
      sendJson(res, 404, { error: "not found" });
    });
    const httpPort = await listen(server, opts.httpPort ?? 8090, host).catch((error: Error) => {
      throw new Error(`site HTTP server could not listen on ${host}:${opts.httpPort ?? 8090}: ${error.message}`);
    });
    cleanups.push(async () => {
      // Idle keep-alive sockets would otherwise hold server.close open.
      server.closeAllConnections();
      await closeServer(server);
    });
    const httpUrl = `http://${urlHost(host)}:${httpPort}`;
    log.info({ mqttUrl, httpUrl, embeddedBroker: Boolean(embedded) }, "site started");

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
        // A graceful end waits for in-flight QoS 1 acks; if the broker is gone, force it.
        // The services go first: the gateway announces its stations offline, the manager
        // flushes its batches, while the broker is still there to hear them.
        if (csms) await withTimeout(csms.close(), 3000);
        const ended = await withTimeout(client.endAsync().then(() => true), 300).catch(() => false);
        if (!ended) await client.endAsync(true).catch(() => {});
        server.closeAllConnections();
        await withTimeout(closeServer(server), 200);
        if (embedded) await withTimeout(embedded.close(), 300);
        log.info("site stopped");
      })());

    return { mqttUrl, httpUrl, csms: csms ? { managerUrl: csms.managerUrl, gatewayUrl: csms.gatewayUrl } : undefined, close };
  } catch (error) {
    await unwind();
    throw error;
  }
};
