import { z } from "zod";

/**
 * The site's MQTT contract, shared by the site and anything that talks to it (the
 * console's broker link, tests). All timestamps are epoch milliseconds so that a ping's
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
  /** Everything the site publishes and reads lives under this filter (its broker ACL). */
  all: "switchyard/site/#",
  pingResponseWildcard: "switchyard/site/ping/response/+",
} as const;

const epochMs = z.number().int().min(0);
const pid = z.number().int().positive();

export const siteStatusSchema = z.discriminatedUnion("state", [
  z.object({ state: z.literal("online"), startedAt: epochMs, pid }),
  z.object({ state: z.literal("offline"), startedAt: epochMs, pid, at: epochMs.optional(), reason: z.string().max(200).optional() }),
]);
export type SiteStatus = z.infer<typeof siteStatusSchema>;

export const siteHeartbeatSchema = z.object({
  at: epochMs,
  uptimeSec: z.number().int().min(0),
  /** The services the site runs (csms-manager, sim-ocpp, …), as its modules name them. */
  services: z.array(z.string().min(1).max(64)).max(100),
});
export type SiteHeartbeat = z.infer<typeof siteHeartbeatSchema>;

/** Ids become a topic level, so they are restricted to characters that are safe there. */
export const pingIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export const pingRequestSchema = z.object({
  id: z.string().regex(pingIdPattern, "id must match ^[A-Za-z0-9_-]{1,64}$"),
  // zod 4 numbers already reject NaN and Infinity.
  sentAt: z.number(),
});
export type PingRequest = z.infer<typeof pingRequestSchema>;

export const pingResponseSchema = pingRequestSchema.extend({ answeredAt: z.number() });
export type PingResponse = z.infer<typeof pingResponseSchema>;

/**
 * The site process's ready line on stdout (the launcher waits for it): where the broker
 * and the site's health endpoint are, and the settings the console needs to reach every
 * module the site runs (e.g. CSMS_MANAGER_URL). No secrets: the line is logged.
 */
export const siteReadySchema = z.object({
  event: z.literal("ready"),
  mqttUrl: z.string().min(1),
  httpUrl: z.string().min(1),
  services: z.array(z.string()).default([]),
  consoleEnv: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).default({}),
  pid: pid.optional(),
});
export type SiteReady = z.infer<typeof siteReadySchema>;
