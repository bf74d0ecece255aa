import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { RPCServer } from "ocpp-rpc";
import { createOpsHandler } from "../../lib/ops";
import { logger as defaultLogger } from "../../../lib/log";
import { csmsTopics, type OcppVersion } from "../../../contracts/csms/mqtt";
import { createLogThrottle } from "../common";
import { createStationConnections } from "./connection";
import { openSessions, PROTOCOLS, type Entry, type Gateway, type GatewayContext, type GatewayOptions } from "./context";
import { DEFAULT_FLOOD_LIMIT } from "./flood";
import { listenToManager } from "./manager-calls";
import { createMetrics } from "./metrics";
import { createMqttLink } from "./mqtt-link";
import { DEFAULT_RATE_LIMIT } from "./rate-limit";
import { createUpgrades } from "./upgrade";
import { urlHost, withTimeout } from "../../../lib/net";
import { sendJson } from "../../lib/http";

export type { Gateway, GatewayOptions } from "./context";

/**
 * The OCPP gateway: stations' websockets on one side, the manager over MQTT on the other.
 * This file wires the parts and owns the HTTP server and shutdown: upgrade.ts (the way in,
 * authentication), connection.ts (a station's sockets), station-calls.ts (station → manager,
 * rate limited, flood.ts), manager-calls.ts (manager → station), mqtt-link.ts (the broker),
 * metrics.ts.
 */
export const startGateway = async (opts: GatewayOptions): Promise<Gateway> => {
  const log = opts.log ?? defaultLogger();
  const host = opts.host ?? "127.0.0.1";
  const prefix = opts.topicPrefix ?? "cs";
  const callTimeoutMs = opts.callTimeoutMs ?? 10_000;
  const maxFrameBytes = opts.maxFrameBytes ?? 64 * 1024;
  const gatewayId = opts.gatewayId ?? `gw-${os.hostname().replaceAll(/[^A-Za-z0-9._-]/g, "-").slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  // It becomes a topic level and the MQTT client id.
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(gatewayId)) throw new Error("gatewayId must be 1–64 letters, digits, '.', '_' or '-'");
  const stations = new Map<string, Entry>();
  const countByProtocol = () => {
    const counts = { "ocpp1.6": 0, "ocpp2.0.1": 0 } as Record<OcppVersion, number>;
    for (const s of openSessions(stations)) counts[s.protocol] += 1;
    return counts;
  };
  const ctx: GatewayContext = {
    opts,
    log,
    gatewayId,
    prefix,
    topics: csmsTopics(prefix),
    qos: opts.qos ?? 1,
    callTimeoutMs,
    maxQueuedCalls: opts.maxQueuedCalls ?? 5,
    maxFrameBytes,
    rateLimit: opts.rateLimit ?? DEFAULT_RATE_LIMIT,
    floodLimit: opts.floodLimit ?? DEFAULT_FLOOD_LIMIT,
    offlineLingerMs: opts.offlineLingerMs ?? 60_000,
    retryMs: opts.retryMs ?? 5000,
    stations,
    shouldLog: createLogThrottle(10_000),
    metrics: createMetrics(countByProtocol, () => link.mqtt.connected),
    state: { closing: false },
  };
  const { topics, metrics, state } = ctx;
  const link = createMqttLink(ctx);
  const { mqtt, publish, gatewayStatus, inflightPresence, shutdownMqtt } = link;
  const connections = createStationConnections(ctx, link);
  listenToManager(ctx, link, connections.onPresence);

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
  const upgrades = createUpgrades(ctx, link, rpc, connections.attachClient);

  const startedAt = Date.now();
  const ops = createOpsHandler({
    registry: metrics.registry,
    metricsToken: opts.metricsToken,
    check: () => {
      const counts = countByProtocol();
      return {
        ok: mqtt.connected && !state.closing,
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
  server.on("upgrade", upgrades.onUpgrade);
  server.on("clientError", upgrades.onClientError);

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
      state.closing = true;
      for (const entry of stations.values()) if (entry.lingerTimer) clearTimeout(entry.lingerTimer);
      // 1001 Going Away: stations reconnect (to another gateway behind the balancer).
      const sessions = openSessions(stations);
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

  return { url, httpUrl, gatewayId, stations: () => openSessions(stations).map((s) => s.stationId), close };
};
