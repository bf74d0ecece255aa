import { connect, type IClientOptions, type MqttClient } from "mqtt";
import type pino from "pino";

/**
 * The manager's one MQTT connection. MQTT 5 first (shared subscriptions, session expiry),
 * 3.1.1 when the broker refuses it (aedes). The client id is the manager id: a closed broker
 * lets a manager publish only its own feed (`<prefix>/feed/%c`), and a broker keeps client
 * ids unique. `durable` keeps the session (and its QoS 1 subscriptions) across restarts.
 */
export const connectManagerMqtt = async (o: {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  durable: boolean;
  sessionExpirySec: number;
  connectTimeoutMs: number;
  /** Published by the broker when the connection dies without a clean close. */
  will?: { topic: string; payload: string };
  log: pino.Logger;
}): Promise<{ client: MqttClient; version: 4 | 5 }> => {
  const attempt = (protocolVersion: 4 | 5) =>
    new Promise<MqttClient>((resolve, reject) => {
      const options: IClientOptions = {
        clientId: o.clientId,
        username: o.username,
        password: o.password,
        protocolVersion,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        queueQoSZero: false,
        ...(o.will ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 0 as const, retain: false } } : {}),
        clean: !o.durable,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.durable ? o.sessionExpirySec : 0 } } : {}),
      };
      const client = connect(o.url, options);
      const timer = setTimeout(() => {
        client.end(true);
        reject(new Error(`could not connect to MQTT broker ${o.url} within ${o.connectTimeoutMs} ms`));
      }, o.connectTimeoutMs);
      const onError = (error: Error & { code?: number }) => {
        // MQTT 3.1.1 brokers answer a v5 CONNECT with "unacceptable protocol version".
        if (protocolVersion === 5 && (error.code === 1 || error.code === 132)) {
          clearTimeout(timer);
          client.off("connect", onConnect);
          client.end(true);
          reject(Object.assign(new Error("MQTT 5 refused"), { v5Refused: true }));
        }
      };
      const onConnect = () => {
        clearTimeout(timer);
        client.off("error", onError);
        resolve(client);
      };
      client.on("error", onError);
      client.once("connect", onConnect);
    });
  try {
    return { client: await attempt(5), version: 5 };
  } catch (error) {
    if (!(error as { v5Refused?: boolean }).v5Refused) throw error;
    o.log.info({ mqttUrl: o.url }, "broker refused MQTT 5; using MQTT 3.1.1");
    return { client: await attempt(4), version: 4 };
  }
};
