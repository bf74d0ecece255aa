import { EventEmitter } from "node:events";
import { csmsTopics, type OcppVersion } from "../../../contracts/csms/mqtt";
import { logger } from "../../../lib/log";
import type { Entry, GatewayContext, Session } from "./context";
import { DEFAULT_FLOOD_LIMIT } from "./flood";
import { createMetrics } from "./metrics";
import type { MqttLink } from "./mqtt-link";
import { createTokenBucket, DEFAULT_RATE_LIMIT } from "./rate-limit";

/**
 * Tests only: a gateway's shared state, MQTT link and station sessions without a broker or
 * sockets, so one module (station-calls.ts, manager-calls.ts) can be tested on its own.
 * The link records what is published; `mqtt` is an EventEmitter to deliver messages with.
 */
export const fakeGateway = (overrides: Partial<GatewayContext> = {}) => {
  const mqtt = Object.assign(new EventEmitter(), { connected: true });
  const metrics = createMetrics(() => ({ "ocpp1.6": 0, "ocpp2.0.1": 0 }), () => mqtt.connected);
  const ctx: GatewayContext = {
    opts: { mqttUrl: "mqtt://unused", authenticate: async () => true },
    log: logger(),
    gatewayId: "gw-test",
    prefix: "cs",
    topics: csmsTopics("cs"),
    qos: 1,
    callTimeoutMs: 10_000,
    maxQueuedCalls: 5,
    maxFrameBytes: 64 * 1024,
    rateLimit: DEFAULT_RATE_LIMIT,
    floodLimit: DEFAULT_FLOOD_LIMIT,
    offlineLingerMs: 60_000,
    retryMs: 1000,
    stations: new Map(),
    shouldLog: () => true,
    metrics,
    state: { closing: false },
    ...overrides,
  };
  const published: { topic: string; body: unknown }[] = [];
  const record = async (topic: string, body: unknown) => void published.push({ topic, body });
  const presence: { stationId: string; online: boolean; reason?: string }[] = [];
  const subscriptions = { subscribed: [] as string[], unsubscribed: [] as string[], fail: false };
  const link = {
    mqtt,
    publish: record,
    publishQuietly: record,
    publishPresence: async (session: Session, online: boolean, reason?: string) => void presence.push({ stationId: session.stationId, online, ...(reason ? { reason } : {}) }),
    subscribeStation: async (stationId: string) => {
      subscriptions.subscribed.push(stationId);
      if (subscriptions.fail) throw new Error("broker refused the subscription");
    },
    unsubscribeStation: async (stationId: string) => void subscriptions.unsubscribed.push(stationId),
  } as unknown as MqttLink;
  /** The sum of a counter's values over all its labels (or those matching `labels`). */
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values
      .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((n, v) => n + v.value, 0) ?? 0;
  return { ctx, link, mqtt, published, presence, subscriptions, metric };
};

/** A connected station's session and entry, registered in `ctx.stations`; `client` records closes and answers calls with `call`. */
export const fakeSession = (
  ctx: GatewayContext,
  {
    stationId = "S1",
    protocol = "ocpp1.6" as OcppVersion,
    bucket = createTokenBucket(DEFAULT_RATE_LIMIT),
    refused = "pause" as "pause" | "disconnect",
    call = async (_action: string, _params: unknown, _opts?: unknown): Promise<unknown> => ({}),
  } = {},
) => {
  const closes: unknown[] = [];
  const session: Session = {
    stationId,
    protocol,
    sessionId: `sess-${stationId}`,
    connectedAt: Date.now(),
    client: { close: async (o: unknown) => void closes.push(o), call } as unknown as Session["client"],
    open: true,
    superseded: false,
    bucket,
    flood: { refused: () => refused },
    pending: new Map(),
    managerCalls: 0,
  };
  const entry: Entry = { stationId, protocol, subscription: Promise.resolve(), session };
  ctx.stations.set(stationId, entry);
  return { session, entry, closes };
};
