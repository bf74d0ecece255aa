import type { IPublishPacket } from "mqtt";
import {
  envelopeSchema,
  GATEWAY_ERROR,
  parseStationTopic,
  type CallEnvelope,
  type Envelope,
  type ErrorEnvelope,
  type OcppVersion,
  type ResultEnvelope,
} from "../../../contracts/csms/mqtt";
import { errorCodeOf, isTimeout, rpcError, type GatewayContext } from "./context";
import type { MqttLink } from "./mqtt-link";

/**
 * What arrives from the manager over MQTT, validated against its contract before anything
 * happens: CALLs for a station (relayed on its socket, answered on `in`), answers to station
 * CALLs (matched to the pending call by id), and presence (handed to `onPresence`).
 */
export const listenToManager = (
  { log, gatewayId, prefix, topics, callTimeoutMs, maxQueuedCalls, maxFrameBytes, stations, shouldLog, metrics }: GatewayContext,
  { mqtt, publishQuietly }: MqttLink,
  onPresence: (stationId: string, payload: Buffer, retained: boolean) => void,
) => {
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
};
