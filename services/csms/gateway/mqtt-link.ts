import { connect, type MqttClient } from "mqtt";
import type { GatewayStatus, StationPresence } from "../../../contracts/csms/mqtt";
import { withTimeout } from "../../../lib/net";
import { openSessions, type GatewayContext, type Session } from "./context";

/**
 * The gateway's MQTT link: one connection for the whole gateway. MaEVe opens one MQTT
 * connection per station. At 10k+ stations per gateway that is 10k client sessions,
 * keep-alives and TCP connections on the broker for no benefit; one connection with
 * per-station subscriptions carries the same traffic. Incoming messages are manager-calls.ts.
 */
export const createMqttLink = ({ opts, log, gatewayId, prefix, topics, qos, stations, metrics }: GatewayContext) => {
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
    for (const s of openSessions(stations)) void publishPresence(s, true);
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
  const shutdownMqtt = async () => {
    const ended = await withTimeout(mqtt.endAsync().then(() => true), 500).catch(() => false);
    if (!ended) await mqtt.endAsync(true).catch(() => {});
  };

  return { mqtt, gatewayStatus, publish, publishQuietly, publishPresence, inflightPresence, subscribeStation, unsubscribeStation, shutdownMqtt };
};

export type MqttLink = ReturnType<typeof createMqttLink>;
