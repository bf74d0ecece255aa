import "server-only";
import type { MqttClient } from "mqtt";
import { pingResponseSchema, SITE_TOPICS } from "../../../contracts/site";
import type { CommandReply } from "../../commands/submit-command";

/**
 * A round trip through the broker to the site process: request on
 * `switchyard/site/ping/request`, answer on `switchyard/site/ping/response/<id>`.
 */
export const pingSite = (client: MqttClient, id: string, signal: AbortSignal): Promise<CommandReply> =>
  new Promise((resolve, reject) => {
    if (!client.connected) return reject(new Error("the console is not connected to the MQTT broker"));
    const topic = SITE_TOPICS.pingResponse(id);
    const sentAt = Date.now();
    const cleanup = () => {
      client.removeListener("message", onMessage);
      client.unsubscribe(topic);
    };
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      cleanup();
      let body: unknown;
      try {
        body = JSON.parse(payload.toString());
      } catch {
        body = undefined;
      }
      const answer = pingResponseSchema.safeParse(body);
      if (answer.success && answer.data.id === id) resolve({ status: "accepted", result: { roundTripMs: Date.now() - sentAt, answeredAt: answer.data.answeredAt } });
      else resolve({ status: "rejected", error: "unreadable answer from the site" });
    };
    signal.addEventListener("abort", cleanup, { once: true });
    client.on("message", onMessage);
    client.subscribe(topic, { qos: 0 }, (error) => {
      if (error) {
        cleanup();
        return reject(error);
      }
      client.publish(SITE_TOPICS.pingRequest, JSON.stringify({ id, sentAt }), { qos: 0 });
    });
  });
