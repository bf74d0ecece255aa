import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import type { Duplex } from "node:stream";
import { connect, type IPublishPacket, type MqttClient } from "mqtt";
import { createRPCError, RPCServer } from "ocpp-rpc";
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import type pino from "pino";
import { createOpsHandler } from "../../lib/ops";
import { logger as defaultLogger } from "../../../lib/log";
import {
  csmsTopics,
  envelopeSchema,
  GATEWAY_ERROR,
  isValidStationId,
  parseStationTopic,
  STATION_ACTIONS,
  stationPresenceSchema,
  type CallEnvelope,
  type Envelope,
  type ErrorEnvelope,
  type GatewayStatus,
  type OcppVersion,
  type ResultEnvelope,
  type StationPresence,
} from "../../../contracts/csms/mqtt";
import type { Authenticate } from "./auth";
import { actionLabel, createLogThrottle } from "../common";
import { createMetrics } from "./metrics";
import { createFloodGuard, DEFAULT_FLOOD_LIMIT, disconnectAbuser, fixErrorSpelling, pauseReading, type FloodGuard, type FloodLimit } from "./flood";
import { createTokenBucket, DEFAULT_RATE_LIMIT, type RateLimit, type TokenBucket } from "./rate-limit";
import { urlHost, withTimeout } from "../../../lib/net";
import { sendJson } from "../../lib/http";

export type GatewayOptions = {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  topicPrefix?: string;
  /** Decides who may connect; see auth.ts for the contract and the stock implementations. */
  authenticate: Authenticate;
  /** How long a station CALL waits for the manager, and a manager CALL for the station. */
  callTimeoutMs?: number;
  /** Manager CALLs queued behind the one in flight per station (MaEVe: 5). */
  maxQueuedCalls?: number;
  /** Largest websocket message accepted; bigger ones close the socket with 1009. */
  maxFrameBytes?: number;
  /** Per-station limit on CALLs; excess CALLs get a SecurityError CALLERROR. */
  rateLimit?: RateLimit;
  /** What happens to a station that keeps sending once the rate limit refuses it (pause reading, then 1008). */
  floodLimit?: FloodLimit;
  /**
   * Upgrades waiting for authentication at once; more are refused with 503 + Retry-After
   * (an answer the station backs off on) rather than piling up until sockets reset.
   */
  maxPendingUpgrades?: number;
  /** TCP accept backlog (capped by the kernel's somaxconn); a boot storm needs more than Node's 511. */
  listenBacklog?: number;
  /** Consecutive malformed frames tolerated before the socket is closed with 1002. */
  maxBadMessages?: number;
  /**
   * How long the gateway keeps listening for manager CALLs to a station after its socket
   * closed, answering them StationOffline instead of letting them vanish. Ends early when
   * the station shows up on another gateway.
   */
  offlineLingerMs?: number;
  /**
   * QoS of the in/out traffic. 1 (the default) lets a manager with a persistent session
   * receive what was published while it was down; MaEVe uses 0. Presence is always QoS 1 and retained.
   */
  qos?: 0 | 1;
  /**
   * A station CALL the manager has not answered after this long is published again (same
   * id; the manager answers a repeat once), until `callTimeoutMs`: a manager killed while
   * handling it, and restarted, still answers. 0 turns retries off.
   */
  retryMs?: number;
  /** Unique per process; appears in presence messages. */
  gatewayId?: string;
  connectTimeoutMs?: number;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Websocket keep-alive ping interval (dead TCP connections are dropped after one missed pong). */
  pingIntervalMs?: number;
  log?: pino.Logger;
};

export type Gateway = {
  /** Base websocket URL; stations connect to `${url}/ws/<stationId>`. */
  url: string;
  /** Same server: GET /health and GET /metrics. */
  httpUrl: string;
  gatewayId: string;
  /** Station ids with an open socket on this gateway. */
  stations: () => string[];
  /** Marks every station offline, closes sockets (1001), then the broker connection. Idempotent. */
  close: () => Promise<void>;
};

/** Server preference when a station offers both: the newer protocol. */
const PROTOCOLS: OcppVersion[] = ["ocpp2.0.1", "ocpp1.6"];

type PendingStationCall = {
  action: string;
  resolve: (response: Record<string, unknown>) => void;
  reject: (error: Error) => void;
};

/** One websocket connection of one station. */
type Session = {
  stationId: string;
  protocol: OcppVersion;
  sessionId: string;
  connectedAt: number;
  client: RPCServerClient;
  open: boolean;
  /** Closed because a newer socket of the same station replaced it (here or on another gateway). */
  superseded: boolean;
  bucket: TokenBucket;
  flood: FloodGuard;
  /** Set once it is being disconnected for flooding (frames already buffered are still answered). */
  kicked?: boolean;
  /** Station CALLs published to the manager and awaiting its answer, by OCPP message id. */
  pending: Map<string, PendingStationCall>;
  /** Manager CALLs in flight or queued in ocpp-rpc's per-client queue. */
  managerCalls: number;
  /** The action of the manager CALL currently on the wire (callConcurrency is 1). */
  inflightAction?: string;
};

/** A station this gateway currently holds MQTT subscriptions for. */
type Entry = {
  stationId: string;
  session?: Session;
  subscription: Promise<void>;
  lingerTimer?: NodeJS.Timeout;
  /** Protocol of the last session, for StationOffline answers while lingering. */
  protocol: OcppVersion;
};



/** Answers an HTTP upgrade with a plain status and drops the socket (no websocket is made). */
const refuseUpgrade = (socket: Duplex, status: number, message: string, headers: Record<string, string> = {}) => {
  if (socket.writable) {
    const body = `${message}\n`;
    const head = {
      connection: "close",
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      ...headers,
    };
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\n${Object.entries(head)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\r\n")}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
};

/**
 * Extracts the basic-auth password. ocpp-rpc already does this when the username equals
 * the identity; the fallback covers registrations that allow a mismatching username.
 */
const credentials = (stationId: string, handshakePassword: Buffer | undefined, authorization: string | undefined) => {
  if (handshakePassword) return { password: handshakePassword.toString("utf8"), usernameMatches: true };
  const m = authorization ? /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(authorization) : null;
  if (!m) return { password: undefined, usernameMatches: false };
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { password: undefined, usernameMatches: false };
  return { password: decoded.slice(colon + 1), usernameMatches: decoded.slice(0, colon) === stationId };
};

/** ocpp-rpc's typings declare its errors as plain records; they are Error subclasses. */
const rpcError = (code: string, message: string) => createRPCError(code, message) as unknown as Error;

const errorCodeOf = (error: unknown) =>
  typeof (error as { rpcErrorCode?: unknown })?.rpcErrorCode === "string" ? (error as { rpcErrorCode: string }).rpcErrorCode : undefined;
const isTimeout = (error: unknown) => (error as Error | undefined)?.constructor?.name === "TimeoutError";

export const startGateway = async (opts: GatewayOptions): Promise<Gateway> => {
  const log = opts.log ?? defaultLogger();
  const host = opts.host ?? "127.0.0.1";
  const prefix = opts.topicPrefix ?? "cs";
  const topics = csmsTopics(prefix);
  const callTimeoutMs = opts.callTimeoutMs ?? 10_000;
  const maxQueuedCalls = opts.maxQueuedCalls ?? 5;
  const maxFrameBytes = opts.maxFrameBytes ?? 64 * 1024;
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const floodLimit = opts.floodLimit ?? DEFAULT_FLOOD_LIMIT;
  const maxPendingUpgrades = opts.maxPendingUpgrades ?? 1000;
  let pendingUpgrades = 0;
  /** Ends an upgrade's "pending" count once ocpp-rpc made a client of it. */
  const upgradeDone = new WeakMap<http.IncomingMessage, () => void>();
  const offlineLingerMs = opts.offlineLingerMs ?? 60_000;
  const qos = opts.qos ?? 1;
  const retryMs = opts.retryMs ?? 5000;
  const gatewayId = opts.gatewayId ?? `gw-${os.hostname().replaceAll(/[^A-Za-z0-9._-]/g, "-").slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  // It becomes a topic level and the MQTT client id.
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(gatewayId)) throw new Error("gatewayId must be 1–64 letters, digits, '.', '_' or '-'");
  const stations = new Map<string, Entry>();
  const shouldLog = createLogThrottle(10_000);
  let closing = false;

  const openSessions = () => [...stations.values()].flatMap((e) => (e.session?.open ? [e.session] : []));
  const countByProtocol = () => {
    const counts = { "ocpp1.6": 0, "ocpp2.0.1": 0 } as Record<OcppVersion, number>;
    for (const s of openSessions()) counts[s.protocol] += 1;
    return counts;
  };

  // ---------- MQTT: one connection for the whole gateway ----------
  // MaEVe opens one MQTT connection per station. At 10k+ stations per gateway that is
  // 10k client sessions, keep-alives and TCP connections on the broker for no benefit;
  // one connection with per-station subscriptions carries the same traffic.
  const gatewayStatus = (online: boolean, reason?: string): string =>
    JSON.stringify({ online, gateway: gatewayId, at: Date.now(), ...(reason ? { reason } : {}) } satisfies GatewayStatus);
  const mqtt: MqttClient = connect(opts.mqttUrl, {
    // The client id is the gateway id: a closed broker lets a gateway publish only its own
    // status topic (`<prefix>/gateway/%c`), and client ids are unique on a broker.
    clientId: gatewayId,
    username: opts.mqttUsername,
    password: opts.mqttPassword,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // A CALL replayed minutes later after a reconnect would be worse than a timeout.
    queueQoSZero: false,
    will: { topic: topics.gateway(gatewayId), payload: Buffer.from(gatewayStatus(false, "connection lost")), qos: 1, retain: true },
  });

  const metrics = createMetrics(countByProtocol, () => mqtt.connected);

  const publish = (topic: string, body: unknown, options: { qos?: 0 | 1; retain?: boolean } = {}) =>
    new Promise<void>((resolve, reject) => {
      metrics.mqttMessages.inc({ direction: "published" });
      mqtt.publish(topic, JSON.stringify(body), { qos: options.qos ?? qos, retain: options.retain ?? false }, (error) => {
        if (error) {
          log.warn({ topic, err: error.message }, "mqtt publish failed");
          reject(error);
        } else resolve();
      });
    });
  // For fire-and-forget publishes: the failure is already logged.
  const publishQuietly = (topic: string, body: unknown, options?: { qos?: 0 | 1; retain?: boolean }) => publish(topic, body, options).catch(() => {});

  const presence = (session: Session, online: boolean, reason?: string): StationPresence => ({
    online,
    gateway: gatewayId,
    protocol: session.protocol,
    at: Date.now(),
    session: session.sessionId,
    ...(reason ? { reason } : {}),
  });
  const inflightPresence = new Set<Promise<void>>();
  const publishPresence = (session: Session, online: boolean, reason?: string) => {
    const p = publishQuietly(topics.presence(session.stationId), presence(session, online, reason), { qos: 1, retain: true });
    inflightPresence.add(p);
    void p.finally(() => inflightPresence.delete(p));
    return p;
  };

  mqtt.on("connect", () => {
    // Small request/response messages otherwise wait for Nagle + delayed ACK (~40 ms each way).
    (mqtt.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    log.info({ mqttUrl: opts.mqttUrl, gatewayId }, "gateway mqtt connected");
    void publishQuietly(topics.gateway(gatewayId), JSON.parse(gatewayStatus(true)), { qos: 1, retain: true });
    // A restarted broker has lost the retained presence (and maybe the will fired):
    // re-announce every station that is still connected here.
    for (const s of openSessions()) void publishPresence(s, true);
  });
  mqtt.on("reconnect", () => log.info({ mqttUrl: opts.mqttUrl }, "gateway mqtt reconnecting"));
  mqtt.on("offline", () => log.warn({ mqttUrl: opts.mqttUrl }, "gateway mqtt offline"));
  mqtt.on("error", (error) => log.warn({ mqttUrl: opts.mqttUrl, err: error.message }, "gateway mqtt error"));

  const subscribeStation = (stationId: string) =>
    mqtt.subscribeAsync({ [`${prefix}/out/+/${stationId}`]: { qos }, [topics.presence(stationId)]: { qos: 1 } }).then(() => undefined);
  const unsubscribeStation = (stationId: string) =>
    mqtt.unsubscribeAsync([`${prefix}/out/+/${stationId}`, topics.presence(stationId)]).catch((error: Error) =>
      log.debug({ stationId, err: error.message }, "unsubscribe failed"),
    );

  // ---------- manager → station ----------

  const answerManager = (version: OcppVersion, stationId: string, body: ResultEnvelope | ErrorEnvelope) => publishQuietly(topics.in(version, stationId), body);

  const refuseManagerCall = (version: OcppVersion, stationId: string, call: CallEnvelope, code: string, description: string) =>
    answerManager(version, stationId, { type: 4, action: call.action, id: call.id, request: call.request, error_code: code, error_description: description });

  const onManagerCall = (version: OcppVersion, stationId: string, call: CallEnvelope) => {
    const entry = stations.get(stationId);
    const session = entry?.session;
    if (!session || !session.open) {
      metrics.stationOffline.inc();
      return refuseManagerCall(version, stationId, call, GATEWAY_ERROR.stationOffline, `station ${stationId} is not connected to gateway ${gatewayId}`);
    }
    if (session.protocol !== version) {
      metrics.badMqtt.inc({ reason: "protocol_mismatch" });
      return refuseManagerCall(version, stationId, call, GATEWAY_ERROR.protocolMismatch, `station ${stationId} is connected with ${session.protocol}, not ${version}`);
    }
    if (session.managerCalls >= 1 + maxQueuedCalls) {
      metrics.queueFull.inc();
      if (shouldLog(`queue:${stationId}`)) log.warn({ stationId, action: call.action, maxQueuedCalls }, "manager call refused: station queue full");
      return refuseManagerCall(version, stationId, call, GATEWAY_ERROR.queueFull, `one call in flight and ${maxQueuedCalls} queued for ${stationId}`);
    }
    session.managerCalls += 1;
    const started = performance.now();
    const base = { action: call.action, id: call.id, request: call.request };
    session.client.call(call.action, call.request, { callTimeoutMs }).then(
      (response) => {
        metrics.callDuration.observe({ origin: "manager", outcome: "result" }, (performance.now() - started) / 1000);
        void answerManager(version, stationId, { type: 3, ...base, response: (response ?? {}) as Record<string, unknown> });
      },
      (error: Error) => {
        let code: string;
        let description = error.message;
        if (isTimeout(error)) {
          code = GATEWAY_ERROR.timeout;
          description = `station did not answer within ${callTimeoutMs} ms`;
          metrics.timeouts.inc({ origin: "manager" });
        } else if (errorCodeOf(error)) {
          code = errorCodeOf(error)!;
        } else if (!session.open) {
          code = GATEWAY_ERROR.disconnected;
          description = `station ${stationId} disconnected before answering`;
        } else {
          code = "InternalError";
        }
        metrics.callDuration.observe({ origin: "manager", outcome: code === GATEWAY_ERROR.timeout ? "timeout" : "error" }, (performance.now() - started) / 1000);
        void answerManager(version, stationId, { type: 4, ...base, error_code: code, error_description: description });
      },
    ).finally(() => {
      session.managerCalls -= 1;
    });
  };

  /** The manager's answer to a station CALL. */
  const onManagerAnswer = (stationId: string, envelope: ResultEnvelope | ErrorEnvelope) => {
    const pending = stations.get(stationId)?.session?.pending.get(envelope.id);
    if (!pending) {
      // Late (after the timeout), duplicated, or simply wrong.
      metrics.badMqtt.inc({ reason: "unknown_id" });
      if (shouldLog(`unknown-id:${stationId}`)) log.warn({ stationId, id: envelope.id, type: envelope.type }, "manager answer matches no pending station call");
      return;
    }
    if (envelope.type === 3) pending.resolve(envelope.response);
    else pending.reject(rpcError(envelope.error_code, envelope.error_description ?? ""));
  };

  const onPresence = (stationId: string, payload: Buffer, retained: boolean) => {
    // Retained copies are history from before our subscription; only live announcements
    // (RETAIN=0 on delivery) can mean the station has just connected somewhere else.
    if (retained) return;
    const entry = stations.get(stationId);
    if (!entry) return;
    let parsed;
    try {
      parsed = stationPresenceSchema.safeParse(JSON.parse(payload.toString("utf8")));
    } catch {
      return;
    }
    if (!parsed.success || !parsed.data.online) return;
    const other = parsed.data;
    if (entry.session && other.session === entry.session.sessionId) return;
    if (other.gateway === gatewayId) return; // a newer socket here; handled on connect
    log.info({ stationId, otherGateway: other.gateway }, "station connected to another gateway; releasing it here");
    if (entry.session?.open) {
      entry.session.superseded = true;
      void entry.session.client.close({ code: 1000, reason: "connected elsewhere" }).catch(() => {});
    }
    if (entry.lingerTimer) clearTimeout(entry.lingerTimer);
    stations.delete(stationId);
    void unsubscribeStation(stationId);
  };

  mqtt.on("message", (topic: string, payload: Buffer, packet: IPublishPacket) => {
    metrics.mqttMessages.inc({ direction: "received" });
    if (topic.startsWith(`${prefix}/presence/`)) return onPresence(topic.slice(prefix.length + "/presence/".length), payload, packet.retain);
    const where = parseStationTopic(prefix, topic);
    if (!where || where.direction !== "out") return;
    const reject = (reason: string, detail: string) => {
      metrics.badMqtt.inc({ reason });
      if (shouldLog(`mqtt-${reason}:${where.stationId}`)) log.warn({ topic, reason, detail }, "malformed MQTT payload ignored");
    };
    if (payload.length > maxFrameBytes * 4) return reject("schema", `payload of ${payload.length} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch (error) {
      return reject("json", (error as Error).message);
    }
    const parsed = envelopeSchema.safeParse(body);
    if (!parsed.success) return reject("schema", parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; "));
    const envelope = parsed.data as Envelope;
    if (envelope.type === 2) return onManagerCall(where.version, where.stationId, envelope);
    return onManagerAnswer(where.stationId, envelope);
  });

  // ---------- station → manager ----------

  const handleStationCall =
    (entry: Entry, session: Session) =>
    async ({ method, params, messageId, signal }: { method?: string; params?: Record<string, unknown>; messageId?: string; signal?: AbortSignal }) => {
      const action = method!;
      const id = messageId!;
      if (!session.bucket.take()) {
        metrics.rateLimited.inc();
        if (session.flood.refused() === "disconnect") {
          if (session.open && !session.kicked) {
            session.kicked = true;
            metrics.floodDisconnects.inc();
            log.warn({ stationId: session.stationId, action, ...floodLimit }, "station kept flooding after being rate limited; socket closed with 1008");
            disconnectAbuser(session.client, "rate limit exceeded");
          }
        } else {
          // Backpressure: its next frames wait in its own socket buffers, not in our event loop.
          if (pauseReading(session.client, floodLimit.pauseMs)) metrics.floodPauses.inc();
          if (shouldLog(`rate:${session.stationId}`)) log.warn({ stationId: session.stationId, action, ...rateLimit }, "station rate limited; reading paused");
        }
        throw rpcError("SecurityError", `rate limited: more than ${rateLimit.callsPerSecond} calls/s (burst ${rateLimit.burst})`);
      }
      // OCPP-J message ids are at most 36 characters; the manager could not answer a longer one.
      if (id.length > 36) {
        metrics.badFrames.inc({ reason: "message_id" });
        if (shouldLog(`msgid:${session.stationId}`)) log.warn({ stationId: session.stationId, action, length: id.length }, "message id longer than 36 characters refused");
        throw rpcError(session.protocol === "ocpp1.6" ? "FormationViolation" : "FormatViolation", "message id longer than 36 characters");
      }
      if (!mqtt.connected) throw rpcError("InternalError", "CSMS temporarily unavailable");
      await entry.subscription;
      const started = performance.now();
      const observe = (outcome: string) => metrics.callDuration.observe({ origin: "station", outcome }, (performance.now() - started) / 1000);
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          session.pending.delete(id);
          signal?.removeEventListener("abort", onAbort);
        };
        const timer = setTimeout(() => {
          done();
          metrics.timeouts.inc({ origin: "station" });
          observe("timeout");
          if (shouldLog(`timeout:${session.stationId}`)) log.warn({ stationId: session.stationId, action, id, callTimeoutMs }, "manager did not answer a station call");
          reject(rpcError("InternalError", `the CSMS did not answer within ${callTimeoutMs} ms`));
        }, callTimeoutMs);
        const onAbort = () => {
          done();
          reject(new Error("station disconnected"));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        session.pending.set(id, {
          action,
          resolve: (response) => (done(), observe("result"), resolve(response)),
          reject: (error) => (done(), observe("error"), reject(error)),
        });
        const topic = topics.in(session.protocol, session.stationId);
        const envelope = { type: 2, action, id, request: params ?? {} } satisfies CallEnvelope;
        publish(topic, envelope).catch(() => {
          done();
          reject(rpcError("InternalError", "CSMS temporarily unavailable"));
        });
        if (retryMs > 0) {
          const retry = setInterval(() => {
            if (!session.pending.has(id)) return clearInterval(retry);
            if (!mqtt.connected) return;
            metrics.retries.inc();
            publishQuietly(topic, envelope);
          }, retryMs);
          retry.unref();
          const clear = () => clearInterval(retry);
          const pendingCall = session.pending.get(id)!;
          const { resolve: res, reject: rej } = pendingCall;
          pendingCall.resolve = (response) => (clear(), res(response));
          pendingCall.reject = (error) => (clear(), rej(error));
          signal?.addEventListener("abort", clear, { once: true });
          setTimeout(clear, callTimeoutMs).unref();
        }
      });
    };

  const attachClient = async (client: RPCServerClient) => {
    const stationId = client.identity!;
    const protocol = client.protocol as OcppVersion;
    let entry = stations.get(stationId);
    if (entry?.lingerTimer) {
      clearTimeout(entry.lingerTimer);
      entry.lingerTimer = undefined;
    }
    if (!entry) {
      entry = { stationId, protocol, subscription: subscribeStation(stationId) };
      // Handlers await this; a failure is dealt with below, not as an unhandled rejection.
      entry.subscription.catch(() => {});
      stations.set(stationId, entry);
    }
    entry.protocol = protocol;
    const session: Session = {
      stationId,
      protocol,
      sessionId: randomUUID(),
      connectedAt: Date.now(),
      client,
      open: true,
      superseded: false,
      bucket: createTokenBucket(rateLimit),
      flood: createFloodGuard(floodLimit),
      pending: new Map(),
      managerCalls: 0,
    };
    const previous = entry.session;
    entry.session = session;
    if (previous?.open) {
      // OCPP: a new connection from the same identity replaces the old one.
      previous.superseded = true;
      log.info({ stationId }, "station reconnected; closing its previous socket");
      void previous.client.close({ code: 1000, reason: "replaced by a newer connection" }).catch(() => {});
    }

    if (protocol === "ocpp2.0.1") fixErrorSpelling(client);
    const handler = handleStationCall(entry, session);
    for (const action of STATION_ACTIONS[protocol]) client.handle(action, handler);
    // No wildcard handler: ocpp-rpc answers unknown actions NotImplemented by itself.

    client.on("call", ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
      if (outbound) session.inflightAction = payload[2] as string;
      metrics.frames.inc({ direction: outbound ? "out" : "in", type: "call", action: actionLabel(payload[2]) });
    });
    client.on("response", ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
      if (outbound) return; // counted by callResult/callError below, which know the action
      metrics.frames.inc({ direction: "in", type: payload[0] === 3 ? "result" : "error", action: actionLabel(session.inflightAction) });
    });
    client.on("callResult", ({ outbound, method }: { outbound: boolean; method: string }) => {
      if (!outbound) metrics.frames.inc({ direction: "out", type: "result", action: actionLabel(method) });
    });
    client.on("callError", ({ outbound, method, error }: { outbound: boolean; method: string; error: unknown }) => {
      if (outbound) return;
      metrics.frames.inc({ direction: "out", type: "error", action: actionLabel(method) });
      if (errorCodeOf(error) === "NotImplemented") {
        metrics.badFrames.inc({ reason: "unknown_action" });
        if (shouldLog(`unknown:${stationId}`)) log.warn({ stationId, action: String(method).slice(0, 64) }, "station sent an unknown action");
      }
    });
    client.on("badMessage", ({ buffer, error }: { buffer: Buffer; error: Error }) => {
      const code = errorCodeOf(error);
      const reason = error.message === "Message must be a JSON structure" ? "json" : "rpc";
      metrics.badFrames.inc({ reason });
      if (shouldLog(`bad:${stationId}`)) log.warn({ stationId, reason, code, err: error.message, bytes: buffer?.length }, "malformed frame from station");
    });
    client.on("strictValidationFailure", ({ outbound, isCall, method, error }: { outbound: boolean; isCall: boolean; method: string; error: Error }) => {
      // inbound call → the station's CALL broke the schema (answered by ocpp-rpc, never published);
      // outbound call → the manager's request broke it (answered on `in` as a CALLERROR);
      // outbound result → the manager's answer broke it (the station gets InternalError);
      // inbound result → the station's answer to a manager CALL broke it.
      const [counter, reason] = isCall
        ? outbound
          ? ([metrics.badMqtt, "request_schema"] as const)
          : ([metrics.badFrames, "schema"] as const)
        : outbound
          ? ([metrics.badMqtt, "response_schema"] as const)
          : ([metrics.badFrames, "response_schema"] as const);
      counter.inc({ reason });
      if (shouldLog(`schema:${stationId}:${reason}`)) log.warn({ stationId, action: String(method).slice(0, 64), reason, err: error.message }, "schema violation");
    });
    client.on("socketError", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
        metrics.badFrames.inc({ reason: "oversized" });
        log.warn({ stationId, maxFrameBytes }, "station sent an oversized frame; socket closed with 1009");
      } else {
        log.debug({ stationId, err: error.message }, "station socket error");
      }
    });
    client.once("close", ({ code, reason }: { code?: number; reason?: string }) => onClose(entry, session, code, reason));

    try {
      await entry.subscription;
    } catch (error) {
      log.warn({ stationId, err: (error as Error).message }, "could not subscribe for station; closing its socket");
      // A failed entry must not be reused: the next connection subscribes afresh.
      if (stations.get(stationId) === entry) stations.delete(stationId);
      void client.close({ code: 1011, reason: "gateway cannot reach the CSMS" }).catch(() => {});
      return;
    }
    if (!session.open) return;
    log.debug({ stationId, protocol, session: session.sessionId }, "station connected");
    void publishPresence(session, true);
  };

  const onClose = (entry: Entry, session: Session, code?: number, reason?: string) => {
    session.open = false;
    for (const p of session.pending.values()) p.reject(new Error("station disconnected"));
    session.pending.clear();
    log.debug({ stationId: session.stationId, code, reason }, "station disconnected");
    if (session.superseded || entry.session !== session) return;
    void publishPresence(session, false, closing ? "gateway shutdown" : "closed");
    entry.session = undefined;
    if (closing || stations.get(entry.stationId) !== entry) return;
    entry.lingerTimer = setTimeout(() => {
      if (entry.session || stations.get(entry.stationId) !== entry) return;
      stations.delete(entry.stationId);
      void unsubscribeStation(entry.stationId);
    }, offlineLingerMs);
    entry.lingerTimer.unref();
  };

  // ---------- websocket server ----------

  const rpc = new RPCServer({
    protocols: PROTOCOLS,
    strictMode: true,
    callTimeoutMs,
    callConcurrency: 1,
    pingIntervalMs: opts.pingIntervalMs ?? 30_000,
    maxBadMessages: opts.maxBadMessages ?? 10,
    respondWithDetailedErrors: false,
    // ws closes the socket with 1009 when a message exceeds this.
    wssOptions: { maxPayload: maxFrameBytes },
  });
  rpc.on("error", (error: Error) => log.warn({ err: error.message }, "websocket server error"));
  rpc.on("upgradeAborted", ({ error, identity }: { error: Error & { code?: number }; identity: string }) =>
    log.debug({ stationId: identity, status: error?.code, err: error?.message }, "websocket upgrade aborted"),
  );
  rpc.auth(async (accept, reject, handshake, signal) => {
    const stationId = handshake.identity;
    const protocol = PROTOCOLS.find((p) => handshake.protocols.has(p));
    if (!protocol) {
      metrics.upgrades.inc({ outcome: "bad_request" });
      return reject(400, `offer one of the subprotocols ${PROTOCOLS.join(", ")}`);
    }
    const { password, usernameMatches } = credentials(stationId, handshake.password, handshake.headers.authorization);
    let ok: boolean;
    try {
      ok = await opts.authenticate(stationId, password, { usernameMatches });
    } catch (error) {
      metrics.upgrades.inc({ outcome: "unavailable" });
      log.warn({ stationId, err: (error as Error).message }, "station authentication unavailable");
      return reject(503, "authentication temporarily unavailable");
    }
    if (signal?.aborted) return;
    if (!ok) {
      metrics.upgrades.inc({ outcome: "unauthorized" });
      if (shouldLog(`auth:${stationId}`)) log.warn({ stationId, remote: handshake.remoteAddress, hasPassword: password !== undefined }, "station refused: unknown or wrong password");
      return reject(401, "Unauthorized");
    }
    metrics.upgrades.inc({ outcome: "accepted" });
    accept({ stationId }, protocol);
  });
  rpc.on("client", (client: RPCServerClient) => {
    const request = (client as unknown as { _handshake?: { request?: http.IncomingMessage } })._handshake?.request;
    if (request) upgradeDone.get(request)?.();
    if (closing) {
      void client.close({ code: 1001, reason: "gateway shutting down" }).catch(() => {});
      return;
    }
    attachClient(client).catch((error: unknown) => log.error({ err: (error as Error).message }, "attaching a station failed"));
  });

  const startedAt = Date.now();
  const ops = createOpsHandler({
    registry: metrics.registry,
    metricsToken: opts.metricsToken,
    check: () => {
      const counts = countByProtocol();
      return {
        ok: mqtt.connected && !closing,
        gateway: gatewayId,
        mqtt: mqtt.connected ? "connected" : mqtt.reconnecting ? "reconnecting" : "disconnected",
        stations: counts["ocpp1.6"] + counts["ocpp2.0.1"],
        uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      };
    },
  });
  const server = http.createServer((req, res) => {
    if (ops(req, res)) return;
    const pathname = new URL(req.url ?? "/", "http://gateway").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method_not_allowed", message: `${req.method} not allowed here` });
    if (pathname.startsWith("/ws/")) return sendJson(res, 426, { error: "upgrade_required", message: "websocket upgrade required" });
    sendJson(res, 404, { error: "not_found", message: "stations connect to /ws/<stationId>" });
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {}); // resets during a refused upgrade are not our problem
    const pathname = new URL(req.url ?? "/", "http://gateway").pathname;
    const match = /^\/ws\/([^/]+)$/.exec(pathname);
    if (!match) {
      metrics.upgrades.inc({ outcome: "not_found" });
      return refuseUpgrade(socket, 404, "stations connect to /ws/<stationId>");
    }
    let stationId: string;
    try {
      stationId = decodeURIComponent(match[1]);
    } catch {
      metrics.upgrades.inc({ outcome: "bad_request" });
      return refuseUpgrade(socket, 400, "malformed station id");
    }
    if (!isValidStationId(stationId)) {
      metrics.upgrades.inc({ outcome: "bad_request" });
      return refuseUpgrade(socket, 400, "station id must match [A-Za-z0-9._:@-]{1,48}");
    }
    // Without the broker every CALL would fail; a refused upgrade makes the station back
    // off and retry (or try another gateway behind the load balancer).
    if (closing || !mqtt.connected) {
      metrics.upgrades.inc({ outcome: "unavailable" });
      return refuseUpgrade(socket, 503, "gateway unavailable", { "retry-after": "5" });
    }
    if (pendingUpgrades >= maxPendingUpgrades) {
      metrics.upgrades.inc({ outcome: "busy" });
      if (shouldLog("upgrades-busy")) log.warn({ pendingUpgrades, maxPendingUpgrades }, "too many upgrades waiting for authentication; refusing with 503");
      return refuseUpgrade(socket, 503, "gateway busy, retry shortly", { "retry-after": "2" });
    }
    pendingUpgrades += 1;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      pendingUpgrades -= 1;
    };
    socket.once("close", done);
    upgradeDone.set(req, done);
    rpc.handleUpgrade(req, socket as net.Socket, head).catch((error: unknown) => {
      log.warn({ err: (error as Error).message }, "websocket upgrade failed");
      refuseUpgrade(socket, 500, "internal error");
    }).finally(() => {
      // Rejected or failed upgrades are finished here; accepted ones once the client is attached.
      if (socket.destroyed) done();
    });
  });
  // A malformed or timed-out HTTP request still gets an answer, never a bare reset.
  server.on("clientError", (error: Error & { code?: string }, socket) => {
    if (socket.writable && !socket.destroyed) {
      const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ERR_HTTP_HEADERS_TIMEOUT" ? 408 : error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else socket.destroy();
  });

  const shutdownMqtt = async () => {
    const ended = await withTimeout(mqtt.endAsync().then(() => true), 500).catch(() => false);
    if (!ended) await mqtt.endAsync(true).catch(() => {});
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const ms = opts.connectTimeoutMs ?? 15_000;
      const timer = setTimeout(() => reject(new Error(`could not connect to MQTT broker ${opts.mqttUrl} within ${ms} ms`)), ms);
      mqtt.once("connect", () => (clearTimeout(timer), resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`gateway could not listen on ${host}:${opts.port ?? 9310}: ${error.message}`));
      server.once("error", onError);
      server.listen({ port: opts.port ?? 9310, host, backlog: opts.listenBacklog ?? 4096 }, () => {
        server.off("error", onError);
        resolve();
      });
    });
  } catch (error) {
    await shutdownMqtt();
    await rpc.close({ force: true }).catch(() => {});
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const httpUrl = `http://${urlHost(host)}:${port}`;
  const url = `ws://${urlHost(host)}:${port}`;
  log.info({ url, gatewayId, mqttUrl: opts.mqttUrl, prefix }, "gateway started");

  let closingPromise: Promise<void> | undefined;
  const close = () =>
    (closingPromise ??= (async () => {
      closing = true;
      for (const entry of stations.values()) if (entry.lingerTimer) clearTimeout(entry.lingerTimer);
      // 1001 Going Away: stations reconnect (to another gateway behind the balancer).
      const sessions = openSessions();
      await withTimeout(
        Promise.allSettled(sessions.map((s) => s.client.close({ code: 1001, reason: "gateway shutting down" }))),
        1000,
      );
      for (const s of sessions) if (s.open) await s.client.close({ force: true }).catch(() => {});
      await withTimeout(rpc.close({ code: 1001, force: true }), 500).catch(() => {});
      if (mqtt.connected) {
        await withTimeout(Promise.allSettled([...inflightPresence]), 1000);
        await withTimeout(publish(topics.gateway(gatewayId), JSON.parse(gatewayStatus(false, "shutdown")), { qos: 1, retain: true }), 500).catch(() => {});
      }
      await shutdownMqtt();
      server.closeAllConnections();
      await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 500);
      log.info({ gatewayId }, "gateway stopped");
    })());

  return { url, httpUrl, gatewayId, stations: () => openSessions().map((s) => s.stationId), close };
};
