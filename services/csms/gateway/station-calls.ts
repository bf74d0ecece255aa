import type { CallEnvelope } from "../../../contracts/csms/mqtt";
import { rpcError, type Entry, type GatewayContext, type Session } from "./context";
import { disconnectAbuser, pauseReading } from "./flood";
import type { MqttLink } from "./mqtt-link";

/**
 * A station's CALL (ocpp-rpc has checked it against the schema): rate limited per station
 * (flood.ts handles one that keeps going), then published to the manager and answered with
 * the manager's answer, re-published every `retryMs` until `callTimeoutMs`.
 */
export const createStationCallHandler = (
  { log, topics, callTimeoutMs, rateLimit, floodLimit, retryMs, shouldLog, metrics }: GatewayContext,
  { mqtt, publish, publishQuietly }: MqttLink,
) =>
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
