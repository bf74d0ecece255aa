import "server-only";
import type { MqttClient } from "mqtt";
import type { CommandReply } from "../../commands/submit-command";

/**
 * A round trip through the broker to the site process: request on
 * `switchyard/site/ping/request`, answer on `switchyard/site/ping/response/<id>`.
 */
export const pingSite = (client: MqttClient, id: string, signal: AbortSignal): Promise<CommandReply> =>
  new Promise((resolve, reject) => {
    if (!client.connected) return reject(new Error("the console is not connected to the MQTT broker"));
    const topic = `switchyard/site/ping/response/${id}`;
    const sentAt = Date.now();
    const cleanup = () => {
      client.removeListener("message", onMessage);
      client.unsubscribe(topic);
    };
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      cleanup();
      try {
        const body = JSON.parse(payload.toString()) as { answeredAt?: number };
        resolve({ status: "accepted", result: { roundTripMs: Date.now() - sentAt, answeredAt: body.answeredAt ?? null } });
      } catch {
        resolve({ status: "rejected", error: "unreadable answer from the site" });
      }
    };
    signal.addEventListener("abort", cleanup, { once: true });
    client.on("message", onMessage);
    client.subscribe(topic, { qos: 0 }, (error) => {
      if (error) {
        cleanup();
        return reject(error);
      }
      client.publish("switchyard/site/ping/request", JSON.stringify({ id, sentAt }), { qos: 0 });
    });
  });
