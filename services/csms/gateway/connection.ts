import { randomUUID } from "node:crypto";
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import { STATION_ACTIONS, stationPresenceSchema, type OcppVersion } from "../../../contracts/csms/mqtt";
import { actionLabel } from "../common";
import { errorCodeOf, type Entry, type GatewayContext, type Session } from "./context";
import { createFloodGuard, fixErrorSpelling } from "./flood";
import type { MqttLink } from "./mqtt-link";
import { createTokenBucket } from "./rate-limit";
import { createStationCallHandler } from "./station-calls";

/**
 * A station's connections: a new socket (authenticated by upgrade.ts) gets its session,
 * subscriptions, handlers and frame metrics, and replaces an older socket of the same
 * station; a closed one is announced offline and lingers `offlineLingerMs`; one that
 * connected to another gateway is released here.
 */
export const createStationConnections = (ctx: GatewayContext, link: MqttLink) => {
  const { log, gatewayId, stations, rateLimit, floodLimit, maxFrameBytes, offlineLingerMs, shouldLog, metrics, state } = ctx;
  const { subscribeStation, unsubscribeStation, publishPresence } = link;
  const handleStationCall = createStationCallHandler(ctx, link);

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
    void publishPresence(session, false, state.closing ? "gateway shutdown" : "closed");
    entry.session = undefined;
    if (state.closing || stations.get(entry.stationId) !== entry) return;
    entry.lingerTimer = setTimeout(() => {
      if (entry.session || stations.get(entry.stationId) !== entry) return;
      stations.delete(entry.stationId);
      void unsubscribeStation(entry.stationId);
    }, offlineLingerMs);
    entry.lingerTimer.unref();
  };

  return { attachClient, onPresence };
};
