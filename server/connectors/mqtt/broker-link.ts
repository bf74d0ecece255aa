import "server-only";
import { randomBytes } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import type { z } from "zod";
import { SITE_TOPICS, siteHeartbeatSchema, siteStatusSchema } from "../../../contracts/site";
import { logger } from "../../../lib/log";
import type { UpstreamHealth } from "../health";

export type BrokerLinkOptions = {
  url: string;
  username?: string;
  password?: string;
  health: UpstreamHealth;
  /** How long a broken connection may keep retrying before it counts as down. */
  downAfterMs?: number;
  /** A site heartbeat older than this marks the site as reconnecting. */
  siteStaleMs?: number;
};

export type BrokerLink = {
  client: MqttClient;
  /** Site messages dropped because they broke contracts/site. */
  dropped: () => number;
  close: () => Promise<void>;
};

/**
 * The console's own connection to the MQTT broker (embedded aedes or an external one).
 * It reports two links on the health bar: the broker itself, and the site process,
 * whose heartbeat arrives through the broker. A unique client id and plain (non-shared)
 * subscriptions keep it an observer that never steals another consumer's messages; its
 * broker account may only read (the site's ACL), and every message it reads is checked
 * against contracts/site before it counts.
 */
export const connectBrokerLink = ({ url, username, password, health, downAfterMs = 10_000, siteStaleMs = 6_000 }: BrokerLinkOptions): BrokerLink => {
  const log = logger().child({ connector: "mqtt" });
  const broker = health.register("mqtt", "MQTT broker", url);
  const site = health.register("site", "Site", null);
  let downTimer: NodeJS.Timeout | null = null;
  let lastHeartbeat = 0;
  let lastBadLog = 0;
  let dropped = 0;

  /** The parsed message, or undefined (counted as dropped, logged at most every 10 s). */
  const parse = <T extends z.ZodType>(schema: T, topic: string, payload: Buffer): z.infer<T> | undefined => {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      body = undefined;
    }
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    dropped += 1;
    if (Date.now() - lastBadLog > 10_000) {
      lastBadLog = Date.now();
      log.warn({ topic, dropped }, "site message dropped: it breaks contracts/site");
    }
    return undefined;
  };

  const client = mqtt.connect(url, {
    clientId: `switchyard-console-${randomBytes(6).toString("hex")}`,
    username,
    password,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    clean: true,
  });

  const markBroken = (detail: string) => {
    broker.setState("reconnecting", detail);
    site.setState("reconnecting", "broker unreachable");
    downTimer ??= setTimeout(() => {
      broker.setState("down", `${detail} for over ${Math.round(downAfterMs / 1000)} s`);
      site.setState("down", "broker unreachable");
    }, downAfterMs);
  };

  client.on("connect", () => {
    if (downTimer) clearTimeout(downTimer);
    downTimer = null;
    broker.setState("connected", null);
    broker.messageReceived();
    // Resubscribe on every connect: a clean session forgets subscriptions.
    client.subscribe([SITE_TOPICS.heartbeat, SITE_TOPICS.status], { qos: 0 }, (error) => {
      // A refused subscription (0x80) lands here too: the console's broker account is wrong.
      if (error) log.warn({ err: error.message }, "subscribe failed");
    });
  });
  client.on("reconnect", () => markBroken("reconnecting"));
  client.on("offline", () => markBroken("connection lost"));
  client.on("error", (error) => {
    log.warn({ err: error.message }, "mqtt error");
    markBroken(error.message);
  });
  client.on("message", (topic, payload) => {
    const now = Date.now();
    broker.messageReceived(now);
    if (topic === SITE_TOPICS.heartbeat) {
      if (!parse(siteHeartbeatSchema, topic, payload)) return;
      lastHeartbeat = now;
      site.messageReceived(now);
      site.setState("connected", null);
    } else if (topic === SITE_TOPICS.status) {
      // An empty retained payload clears the status; it says nothing about the site.
      if (payload.length === 0) return;
      const status = parse(siteStatusSchema, topic, payload);
      if (status?.state === "offline") site.setState("down", "site reported offline");
    }
  });

  const staleCheck = setInterval(() => {
    if (client.connected && lastHeartbeat > 0 && Date.now() - lastHeartbeat > siteStaleMs) {
      site.setState("reconnecting", "no heartbeat");
    }
  }, 1000);
  staleCheck.unref();

  return {
    client,
    dropped: () => dropped,
    close: async () => {
      clearInterval(staleCheck);
      if (downTimer) clearTimeout(downTimer);
      await client.endAsync(true);
      broker.unregister();
      site.unregister();
    },
  };
};
