import { z } from "zod";

/**
 * The site's MQTT contract, shared by the site and anything that talks to it (the
 * console's connector, tests). All timestamps are epoch milliseconds so that a ping's
 * round trip can be computed without parsing dates.
 */
export const SITE_TOPICS = {
  /** Retained. Online while the site's client is connected; the broker publishes the will otherwise. */
  status: "switchyard/site/status",
  /** QoS 0, every `heartbeatMs` (2 s by default). */
  heartbeat: "switchyard/site/heartbeat",
  pingRequest: "switchyard/site/ping/request",
  /** Replies go to one topic per request so a caller subscribes only to its own answer. */
  pingResponse: (id: string) => `switchyard/site/ping/response/${id}`,
} as const;

export type SiteStatus =
  | { state: "online"; startedAt: number; pid: number }
  | { state: "offline"; startedAt: number; pid: number; at?: number; reason?: string };

export type SiteHeartbeat = { at: number; uptimeSec: number; services: string[] };

/** Ids become a topic level, so they are restricted to characters that are safe there. */
export const pingIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export const pingRequestSchema = z.object({
  id: z.string().regex(pingIdPattern, "id must match ^[A-Za-z0-9_-]{1,64}$"),
  // zod 4 numbers already reject NaN and Infinity.
  sentAt: z.number(),
});

export type PingRequest = z.infer<typeof pingRequestSchema>;
export type PingResponse = PingRequest & { answeredAt: number };
