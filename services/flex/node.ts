import { randomBytes } from "node:crypto";
import http from "node:http";
import type { Redis } from "ioredis";
import { connect, type MqttClient } from "mqtt";
import type pino from "pino";
import { Counter, Gauge, Histogram } from "prom-client";
import type { ZodType } from "zod";
import {
  activationSignalInputSchema,
  createRequestSchema,
  FLEX_API_PREFIX,
  registerDevicesSchema,
  reviseRequestSchema,
  type Depth,
  type FeedSnapshot,
  type NodeHealth,
  type NodeInfo,
  type PeerMessage,
  type RegisteredDevice,
  type RegisterDevice,
} from "../../contracts/flex/api";
import {
  LIMITS,
  offerSchema,
  type ActivationSignal,
  type ActivationStep,
  type Allocation,
  type Bundle,
  type Device,
  type FlexOffer,
  type FlexRequest,
  type NodeRole,
  type RequestRevision,
  type Settlement,
  type Trade,
} from "../../contracts/flex/entities";
import {
  ackMessageSchema,
  DEFAULT_TOPIC_ROOT,
  deviceTopics,
  deviceWildcards,
  offerSchemaFor,
  parseDeviceTopic,
  statusMessageSchema,
  telemetryMessageSchema,
  type OfferResult,
} from "../../contracts/flex/mqtt";
import { closeServer, listen, urlHost, withTimeout } from "../../lib/net";
import { createTokenBucket, type RateLimit, type TokenBucket } from "../csms/gateway/rate-limit";
import { bearerToken, createRouter, HttpError, parseInput, readJsonBody, sendJson } from "../lib/http";
import { createOpsHandler, createRegistry } from "../lib/ops";
import type { BrokerIdentity } from "../site/module";
import { createActivationRouter, stepKey } from "./activation";
import { deviceIdentity, deviceIdOf, deviceUsername, hashDevicePassword, newDevicePassword, samePasswordHash } from "./broker-acl";
import { createOrderBook } from "./book";
import { runRound, type RequestAllocation } from "./bundler";
import { createLiveFeed } from "./feed";
import { createPeerBus, PEER_PATH, type PeerBus, type PeerConfig } from "./peers";
import { settleTrade } from "./settlement";
import { createSigner, type NodeKeys } from "./signing";
import { createMemoryStore, type Collection, type FlexStore, type StoreWrite } from "./store/store";

/**
 * A flexibility marketplace node (EW-Flex): the MQTT device interface, the HTTP API for
 * TSO/DSO backends and FSPs, the order book, the bundler (every 5 s over the 10-minute
 * period), the activation router (signed setpoints every 2 s, forwarded in one hop) and
 * settlement, with a live SSE feed for the console. Everything hot lives in memory; the
 * store is written behind in batches.
 */
export type ParticipantConfig = { id: string; role: "TSO" | "DSO" | "FSP"; name?: string; token: string };

export type FlexNodeOptions = {
  nodeId: string;
  role: NodeRole;
  marketId?: string;
  host?: string;
  /** HTTP API, feed, /health, /metrics; 0 picks a free port. */
  port?: number;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  topicRoot?: string;
  keys: NodeKeys;
  participants: ParticipantConfig[];
  /** The console's read-everything token (feed, all lists). */
  consoleToken?: string;
  /** Grid nodes whose devices connect here (and, for a DSO, that its requests may name). */
  gridNodes: string[];
  peers?: PeerConfig[];
  /** Redis connections for node-to-node routing (storage is `store`). */
  redisPeers?: { pub: Redis; sub: Redis; prefix: string };
  store?: FlexStore;
  periodMs?: number;
  bundleIntervalMs?: number;
  stepMs?: number;
  ackTimeoutMs?: number;
  flushMs?: number;
  offerRate?: RateLimit;
  maxOffersPerDevice?: number;
  penaltyFactor?: number;
  log: pino.Logger;
};

type DeviceRec = {
  device: Device;
  passwordHash: string;
  online: boolean;
  powerW: number | null;
  setpointW: number | null;
  lastSeen: number;
  bucket?: TokenBucket;
  lastThrottleNotice?: number;
};
type RequestRec = { request: FlexRequest; revisions: RequestRevision[] };
type TradeRec = { trade: Trade; allocations: Allocation[] };
type Principal = { kind: "participant"; id: string; role: "TSO" | "DSO" | "FSP" } | { kind: "console" };
type Auth = "any" | "trader" | "fsp" | "console" | "peer";

const revisionOf = (r: FlexRequest): RequestRevision => ({
  revision: r.revision,
  quantityW: r.quantityW,
  minQuantityW: r.minQuantityW,
  maxUnitPrice: r.maxUnitPrice,
  periodFrom: r.periodFrom,
  periodTo: r.periodTo,
  expiresAt: r.expiresAt,
  status: r.status,
  updatedAt: r.updatedAt,
});

export const startFlexNode = async (opts: FlexNodeOptions) => {
  const {
    nodeId,
    role,
    log,
    marketId = "afrr",
    host = "127.0.0.1",
    topicRoot = DEFAULT_TOPIC_ROOT,
    periodMs = 600_000,
    bundleIntervalMs = 5000,
    stepMs = 2000,
    ackTimeoutMs = 1000,
    flushMs = 100,
    offerRate = { callsPerSecond: 5, burst: 20 },
    maxOffersPerDevice = 50,
    penaltyFactor = 1.5,
  } = opts;
  const store = opts.store ?? createMemoryStore();
  const signer = createSigner(opts.keys);
  const gridNodes = new Set(opts.gridNodes);
  const cleanups: (() => Promise<void>)[] = [];
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(() => {
      try {
        fn();
      } catch (error) {
        log.error({ err: (error as Error).message, stack: (error as Error).stack }, "flex node timer failed");
      }
    }, ms);
    timers.push(t);
  };

  // ---------- metrics ----------
  const registry = createRegistry();
  const rejectedTotal = new Counter({ name: "flex_rejected_total", help: "Inbound messages and requests refused or throttled, by kind and reason", labelNames: ["kind", "reason"] as const, registers: [registry] });
  const offerMessages = new Counter({ name: "flex_offer_messages_total", help: "Offer messages handled", labelNames: ["result"] as const, registers: [registry] });
  // Bound once: the intake path counts every message, and label lookup per call costs.
  const offersIn = Object.fromEntries((["accepted", "rejected", "throttled", "cancelled"] as const).map((r) => [r, offerMessages.labels(r)])) as Record<"accepted" | "rejected" | "throttled" | "cancelled", ReturnType<typeof offerMessages.labels>>;
  const roundSeconds = new Histogram({ name: "flex_bundle_round_seconds", help: "Bundler round duration", buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] });
  const ackLatency = new Histogram({ name: "flex_activation_ack_seconds", help: "Step start → device ack, for this node's devices", buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1], registers: [registry] });
  const deviceAuth = new Counter({ name: "flex_device_auth_total", help: "Device broker logins checked by this node", labelNames: ["result"] as const, registers: [registry] });

  // ---------- state ----------
  const devices = new Map<string, DeviceRec>();
  const book = createOrderBook();
  const requests = new Map<string, RequestRec>();
  const bundles = new Map<string, Bundle & { offerIds?: string[] }>();
  const trades = new Map<string, TradeRec>();
  const signals = new Map<string, ActivationSignal>();
  const tradeSteps = new Map<string, Map<number, ActivationStep>>();
  const settlements = new Map<string, Settlement>();
  const depth = new Map<string, Depth>();
  const rejectedCounts: Record<string, number> = {};
  /** DSO peers' allocations per window (so this TSO node clears only what is left). */
  const peerAllocations = new Map<string, { windowStart: number; allocations: Map<string, number> }>();
  let lastRoundMs: number | null = null;
  let round = 0;
  let nextWindow = 0;
  const epoch = randomBytes(4).toString("hex");

  const tokens = new Map<string, Principal>();
  for (const p of opts.participants) tokens.set(p.token, { kind: "participant", id: p.id, role: p.role });
  if (opts.consoleToken) tokens.set(opts.consoleToken, { kind: "console" });
  const participantsById = new Map(opts.participants.map((p) => [p.id, p]));

  // ---------- write-behind ----------
  const pendingWrites = new Map<string, StoreWrite>();
  let flushing: Promise<void> = Promise.resolve();
  const persist = (collection: Collection, key: string, value: unknown) => pendingWrites.set(`${collection}\u0000${key}`, { collection, key, value });
  const flush = () => {
    if (pendingWrites.size === 0) return flushing;
    const batch = [...pendingWrites.values()];
    pendingWrites.clear();
    flushing = flushing.then(() =>
      store.write(batch).catch((error: unknown) => {
        log.error({ err: (error as Error).message, writes: batch.length }, "flex store write failed; retrying with the next batch");
        for (const w of batch) if (!pendingWrites.has(`${w.collection}\u0000${w.key}`)) pendingWrites.set(`${w.collection}\u0000${w.key}`, w);
      }),
    );
    return flushing;
  };

  // ---------- feed ----------
  const nodeHealth = (): NodeHealth => ({
    nodeId,
    role,
    at: Date.now(),
    devicesRegistered: devices.size,
    devicesOnline: [...devices.values()].filter((d) => d.online).length,
    offersOpen: book.size(),
    requestsOpen: [...requests.values()].filter((r) => r.request.status === "active").length,
    lastRoundMs,
    peers: peerBus?.peers() ?? [],
    rejected: { ...rejectedCounts },
  });
  const hideOfferIds = (b: Bundle & { offerIds?: string[] }): Bundle => {
    const { offerIds: _offerIds, ...rest } = b;
    return rest;
  };
  const snapshot = (): FeedSnapshot => ({
    health: nodeHealth(),
    depth: [...depth.values()],
    bundles: [...bundles.values()].map(hideOfferIds),
    requests: [...requests.values()].map((r) => r.request),
    trades: [...trades.values()].map((t) => t.trade),
    steps: [...tradeSteps.values()].flatMap((m) => [...m.values()]).slice(-500),
    settlements: [...settlements.values()],
  });
  const feed = createLiveFeed({ snapshot });

  let lastRejectFeed = 0;
  let rejectFeedBudget = 0;
  /** Every refusal is counted; the feed hears of them at most ~20 a second. */
  const reject = (kind: string, reason: string, who: { deviceId?: string; participantId?: string } = {}) => {
    rejectedTotal.inc({ kind, reason });
    rejectedCounts[`${kind}:${reason}`] = (rejectedCounts[`${kind}:${reason}`] ?? 0) + 1;
    const t = Date.now();
    if (t - lastRejectFeed > 1000) {
      lastRejectFeed = t;
      rejectFeedBudget = 20;
    }
    if (rejectFeedBudget-- > 0) feed.publish("rejected", { kind, reason, ...who, at: t });
    log.debug({ kind, reason, ...who }, "flex input refused");
  };

  // ---------- MQTT device interface ----------
  const client: MqttClient = connect(opts.mqttUrl, {
    clientId: `flex-node-${nodeId}-${randomBytes(4).toString("hex")}`,
    username: opts.mqttUsername,
    password: opts.mqttPassword,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    queueQoSZero: false,
  });
  cleanups.push(async () => {
    const ended = await withTimeout(client.endAsync().then(() => true), 500).catch(() => false);
    if (!ended) await client.endAsync(true).catch(() => {});
  });
  client.on("error", (error) => log.warn({ err: error.message }, "flex node mqtt error"));

  // A burst of publishes (offer results, a step's activations) leaves in one write: the
  // socket is corked until the event loop turns, instead of one syscall per message.
  let corked: { uncork: () => void } | undefined;
  const publish = (topic: string, payload: string, qos: 0 | 1) => {
    const stream = client.stream as unknown as { cork?: () => void; uncork: () => void } | undefined;
    if (!corked && stream?.cork) {
      stream.cork();
      corked = stream;
      setImmediate(() => {
        corked?.uncork();
        corked = undefined;
      });
    }
    client.publish(topic, payload, { qos });
  };

  const offerResultsOut = new Counter({ name: "flex_offer_results_total", help: "Offer results sent to devices", registers: [registry] });
  const sendOfferResult = (deviceId: string, result: Omit<OfferResult, "at">) => {
    if (!client.connected) return;
    offerResultsOut.inc();
    publish(deviceTopics(deviceId, topicRoot).offerResult, JSON.stringify({ ...result, at: Date.now() }), 0);
  };

  // Own offers leave for peers in batches (replication of the book).
  const offerOutbox = { upserts: new Map<string, FlexOffer>(), removed: new Set<string>() };
  const replicate = (offer: FlexOffer | null, id: string) => {
    if (!peerBus) return;
    if (offer) {
      offerOutbox.removed.delete(id);
      offerOutbox.upserts.set(id, offer);
    } else {
      offerOutbox.upserts.delete(id);
      offerOutbox.removed.add(id);
    }
  };

  const rejectOffer = (deviceId: string, offerId: string | undefined, reason: string, detail?: string) => {
    offersIn.rejected.inc();
    reject("offer", reason, { deviceId });
    if (offerId) sendOfferResult(deviceId, { offerId, status: "rejected", reason: detail ? `${reason}: ${detail}` : reason });
  };

  const handleOffer = (rec: DeviceRec, payload: Buffer) => {
    const { device } = rec;
    rec.bucket ??= createTokenBucket(offerRate);
    if (!rec.bucket.take()) {
      offersIn.throttled.inc();
      reject("offer", "throttled", { deviceId: device.id });
      const t = Date.now();
      // One notice a second: a flooding device must not turn the node into an amplifier.
      if (!rec.lastThrottleNotice || t - rec.lastThrottleNotice > 1000) {
        rec.lastThrottleNotice = t;
        sendOfferResult(device.id, { offerId: "*", status: "throttled", reason: `more than ${offerRate.callsPerSecond} offer updates a second` });
      }
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      return rejectOffer(device.id, undefined, "malformed_json");
    }
    const parsed = offerSchemaFor(body).safeParse(body);
    const offerIdOf = (b: unknown) => (typeof b === "object" && b && typeof (b as { offerId?: unknown }).offerId === "string" ? ((b as { offerId: string }).offerId.slice(0, 64)) : undefined);
    if (!parsed.success) return rejectOffer(device.id, offerIdOf(body), "invalid", parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; "));
    const m = parsed.data;
    const id = `${device.id}:${m.offerId}`;
    const prev = book.get(id);
    if ("cancel" in m) {
      if (!prev) return rejectOffer(device.id, m.offerId, "unknown_offer");
      book.remove(id);
      persist("offers", id, null);
      replicate(null, id);
      offersIn.cancelled.inc();
      sendOfferResult(device.id, { offerId: m.offerId, status: "cancelled", revision: prev.revision });
      return;
    }
    const now = Date.now();
    if ((m.marketId ?? marketId) !== marketId) return rejectOffer(device.id, m.offerId, "unknown_market");
    if (m.periodTo <= m.periodFrom) return rejectOffer(device.id, m.offerId, "empty_period");
    if (m.periodTo <= now) return rejectOffer(device.id, m.offerId, "period_in_past");
    if (m.expiresAt !== undefined && m.expiresAt <= now) return rejectOffer(device.id, m.offerId, "expired", "expiresAt is in the past");
    if (m.periodTo - now > LIMITS.maxHorizonMs) return rejectOffer(device.id, m.offerId, "period_too_far");
    if (m.periodFrom % periodMs !== 0 || m.periodTo % periodMs !== 0) return rejectOffer(device.id, m.offerId, "period_not_aligned", `periods start and end on ${periodMs} ms boundaries`);
    if (m.quantityW <= 0) return rejectOffer(device.id, m.offerId, "quantity_not_positive");
    if (m.baselineW < device.pMinW || m.baselineW > device.pMaxW) return rejectOffer(device.id, m.offerId, "baseline_out_of_range");
    const capability = m.direction === "up" ? m.baselineW - device.pMinW : device.pMaxW - m.baselineW;
    if (m.quantityW > capability) return rejectOffer(device.id, m.offerId, "quantity_exceeds_capability", `at most ${capability} W ${m.direction} from a ${m.baselineW} W baseline`);
    if ((m.minAcceptanceW ?? 0) > m.quantityW) return rejectOffer(device.id, m.offerId, "min_acceptance_above_quantity");
    if (!prev && book.countOfDevice(device.id) >= maxOffersPerDevice) return rejectOffer(device.id, m.offerId, "too_many_offers");
    const offer: FlexOffer = {
      id,
      deviceId: device.id,
      nodeId,
      marketId,
      gridNodeId: device.gridNodeId,
      direction: m.direction,
      periodFrom: m.periodFrom,
      periodTo: m.periodTo,
      quantityW: m.quantityW,
      unitPrice: m.unitPrice,
      minAcceptanceW: m.minAcceptanceW ?? 0,
      baselineW: m.baselineW,
      expiresAt: m.expiresAt ?? m.periodTo,
      revision: (prev?.revision ?? 0) + 1,
      status: "active",
      receivedAt: now,
    };
    book.upsert(offer);
    persist("offers", id, offer);
    replicate(offer, id);
    offersIn.accepted.inc();
    sendOfferResult(device.id, { offerId: m.offerId, status: "accepted", revision: offer.revision });
  };

  const parseJson = (payload: Buffer) => {
    try {
      return JSON.parse(payload.toString("utf8")) as unknown;
    } catch {
      return undefined;
    }
  };

  client.on("message", (topic, payload) => {
    const t = parseDeviceTopic(topic, topicRoot);
    if (!t) return;
    const rec = devices.get(t.deviceId);
    // Another node's device on a shared broker: not ours to judge (the broker vouched for it).
    if (!rec) return;
    rec.lastSeen = Date.now();
    if (t.kind === "offers") return handleOffer(rec, payload);
    if (t.kind === "ack") {
      const parsed = ackMessageSchema.safeParse(parseJson(payload));
      if (!parsed.success) return reject("ack", "invalid", { deviceId: t.deviceId });
      rec.powerW = parsed.data.powerW;
      const outcome = activation.onDeviceAck(t.deviceId, parsed.data);
      if (outcome === "stale") reject("ack", "stale_seq", { deviceId: t.deviceId });
      else if (outcome === "ok") ackLatency.observe(Math.max(0, Date.now() - parsed.data.stepTs) / 1000);
      return;
    }
    if (t.kind === "telemetry") {
      const parsed = telemetryMessageSchema.safeParse(parseJson(payload));
      if (!parsed.success) return reject("telemetry", "invalid", { deviceId: t.deviceId });
      rec.powerW = parsed.data.powerW;
      rec.setpointW = parsed.data.setpointW ?? rec.setpointW;
      return;
    }
    if (t.kind === "status") {
      const parsed = statusMessageSchema.safeParse(parseJson(payload));
      if (!parsed.success) return reject("status", "invalid", { deviceId: t.deviceId });
      rec.online = parsed.data.state === "online";
    }
  });

  // ---------- peers ----------
  const onPeerMessage = (from: string, m: PeerMessage) => {
    if (m.type === "activate") return activation.applyShares(from, m.tradeId, m.stepTs, m.validUntil, m.devices.filter((d) => devices.has(d.deviceId)));
    if (m.type === "acks") {
      for (const a of m.acks) activation.recordAck(a);
      return;
    }
    if (m.type === "offers") {
      if (m.full) for (const id of book.idsOfNode(from)) book.remove(id);
      for (const raw of m.upserts) {
        const o = offerSchema.safeParse(raw);
        if (!o.success || o.data.nodeId !== from) {
          reject("peer", "invalid_offer");
          continue;
        }
        book.upsert(o.data);
      }
      for (const id of m.removed) if (book.get(id)?.nodeId === from) book.remove(id);
      return;
    }
    if (m.type === "allocations") {
      peerAllocations.set(from, { windowStart: m.windowStart, allocations: new Map(m.allocations) });
      return;
    }
    if (m.type === "hello") {
      const known = peerEpochs.get(from);
      peerEpochs.set(from, m.epoch);
      // A peer that (re)started has an empty copy of our offers: send it all.
      if (known !== m.epoch) sendFullBook(from);
    }
  };
  const peerEpochs = new Map<string, string>();
  const sendFullBook = (to: string) => {
    const own = book.idsOfNode(nodeId).map((id) => book.get(id)!);
    if (own.length === 0) return peerBus?.send(to, { type: "offers", upserts: [], removed: [], full: true });
    for (let i = 0; i < own.length; i += 5000) peerBus?.send(to, { type: "offers", upserts: own.slice(i, i + 5000), removed: [], full: i === 0 });
  };

  const peerBus: PeerBus | undefined =
    (opts.peers?.length ?? 0) > 0
      ? await createPeerBus({ nodeId, signer, peers: opts.peers!, onMessage: onPeerMessage, log, redis: opts.redisPeers, onRejected: (reason) => reject("peer", reason) })
      : undefined;
  if (peerBus) cleanups.push(peerBus.close);

  // ---------- activation ----------
  const onStep = (step: ActivationStep) => {
    let m = tradeSteps.get(step.tradeId);
    if (!m) tradeSteps.set(step.tradeId, (m = new Map()));
    m.set(step.stepTs, step);
    persist("steps", stepKey(step.tradeId, step.stepTs), step);
    feed.publish("activation", step);
  };
  const activation = createActivationRouter({
    nodeId,
    signer,
    stepMs,
    ackTimeoutMs,
    device: (id) => devices.get(id)?.device,
    publish: (deviceId, message) => {
      const rec = devices.get(deviceId);
      if (rec) rec.setpointW = message.setpointW;
      publish(deviceTopics(deviceId, topicRoot).activation, JSON.stringify(message), 1);
    },
    peers: peerBus,
    onStep,
    onRejected: (reason, deviceId) => reject("activation", reason, { deviceId }),
  });
  cleanups.push(async () => activation.close());

  const setTradeStatus = (rec: TradeRec, status: Trade["status"]) => {
    if (rec.trade.status === status) return;
    rec.trade = { ...rec.trade, status };
    persist("trades", rec.trade.id, rec);
    feed.publish("trade", rec.trade);
  };

  const activeLevel = (s: ActivationSignal | undefined, trade: Trade, now: number) => (s && now >= s.from && now < s.until && now < trade.periodEnd ? s.setpointW : 0);

  // Each trade steps stepMs after its own last step: an LFC signal's step restarts the
  // trade's clock instead of being followed at once by a tick's step (twice the signing
  // and the devices' verifying, and a superseded setpoint). The tick looks 4× per step.
  const stepCheckMs = Math.max(10, Math.floor(stepMs / 4));
  let lastPrune = 0;
  const stepTick = () => {
    const now = Date.now();
    for (const [tradeId, s] of signals) {
      const rec = trades.get(tradeId);
      if (!rec) continue;
      const level = activeLevel(s, rec.trade, now);
      const last = activation.lastStep(tradeId);
      if (last && now - last.stepTs < stepMs - stepCheckMs / 2 && !(level === 0 && last.requestedW > 0)) continue;
      if (level > 0 || (last && last.requestedW > 0)) activation.stepTrade(rec.trade, rec.allocations, level, now);
      if (level === 0 && now >= s.until) signals.delete(tradeId);
    }
    for (const rec of trades.values()) {
      if (rec.trade.status === "settled" || now < rec.trade.periodEnd + stepMs + ackTimeoutMs + 500) continue;
      const s = settleTrade({ trade: rec.trade, allocations: rec.allocations, steps: [...(tradeSteps.get(rec.trade.id)?.values() ?? [])], penaltyFactor, now });
      settlements.set(s.id, s);
      persist("settlements", s.id, s);
      feed.publish("settlement", s);
      setTradeStatus(rec, "settled");
      const r = requests.get(rec.trade.requestId);
      if (r && r.request.status === "matched" && [...trades.values()].every((t) => t.trade.requestId !== r.request.id || t.trade.status === "settled")) updateRequest(r, { status: "settled" });
    }
    if (now - lastPrune >= stepMs) {
      lastPrune = now;
      activation.prune(now - 3600_000);
    }
  };

  // ---------- requests ----------
  const updateRequest = (rec: RequestRec, change: Partial<FlexRequest>, bump = false) => {
    rec.request = { ...rec.request, ...change, revision: rec.request.revision + (bump ? 1 : 0), updatedAt: Date.now() };
    rec.revisions.push(revisionOf(rec.request));
    if (rec.revisions.length > 200) rec.revisions.splice(0, rec.revisions.length - 200);
    persist("requests", rec.request.id, rec);
    feed.publish("request", rec.request);
  };

  // ---------- bundler ----------
  const windowOf = (index: number) => ({ windowStart: index * periodMs, windowEnd: (index + 1) * periodMs });
  // A DSO seals one round before the window starts, so the TSO's seal sees its allocations.
  const gateMs = role === "DSO" ? bundleIntervalMs : 0;
  const takenElsewhere = (windowStart: number) => {
    if (role !== "TSO") return undefined;
    const merged = new Map<string, number>();
    for (const { windowStart: w, allocations } of peerAllocations.values()) {
      if (w !== windowStart) continue;
      for (const [id, watts] of allocations) merged.set(id, (merged.get(id) ?? 0) + watts);
    }
    return merged;
  };

  const roundFor = (index: number, final: boolean) => {
    const { windowStart, windowEnd } = windowOf(index);
    const now = Date.now();
    const result = runRound({
      nodeId,
      marketId,
      offers: book.offers.values(),
      requests: [...requests.values()].map((r) => r.request),
      windowStart,
      windowEnd,
      now,
      round: ++round,
      takenElsewhere: takenElsewhere(windowStart),
      bundleScope: role === "DSO" ? gridNodes : null,
    });
    lastRoundMs = Math.round(result.stats.ms * 10) / 10;
    roundSeconds.observe(result.stats.ms / 1000);
    for (const d of result.depth) {
      depth.set(`${d.gridNodeId}|${d.direction}`, d);
      feed.publish("depth", d);
    }
    for (const b of result.bundles) {
      const sealed = final ? { ...b, status: b.allocations.length > 0 ? ("matched" as const) : ("unmatched" as const) } : b;
      bundles.set(b.id, sealed);
      feed.publish("bundle", hideOfferIds(sealed));
      if (final) persist("bundles", b.id, sealed);
    }
    if (!final) persist("bundles", `collecting:${windowStart}`, result.bundles);
    if (role === "DSO" && peerBus) peerBus.broadcast({ type: "allocations", windowStart, sealed: final, allocations: [...result.allocated] });
    return result;
  };

  const seal = (index: number) => {
    const { windowStart, windowEnd } = windowOf(index);
    const result = roundFor(index, true);
    persist("bundles", `collecting:${windowStart}`, null);
    award(result.matches, windowStart, windowEnd);
    for (const rec of requests.values()) {
      const r = rec.request;
      if (r.status !== "active" || r.periodTo > windowEnd) continue;
      const matched = [...trades.values()].some((t) => t.trade.requestId === r.id);
      updateRequest(rec, { status: matched ? "matched" : "unmatched" });
    }
    // Bundles of windows long gone leave memory (they stay in storage).
    for (const [id, b] of bundles) if (b.windowEnd < windowStart - 6 * periodMs) bundles.delete(id);
    persist("meta", "nextWindow", index + 1);
    log.info({ windowStart, trades: result.matches.length, eligibleOffers: result.stats.eligibleOffers, ms: lastRoundMs }, "bundles sealed");
  };

  const award = (matches: RequestAllocation[], windowStart: number, windowEnd: number) => {
    for (const m of matches) {
      const r = requests.get(m.requestId)?.request;
      if (!r) continue;
      const quantityW = m.allocations.reduce((s, a) => s + a.quantityW, 0);
      const trade: Trade = {
        id: `${nodeId}:${windowStart}:${m.requestId}:${m.gridNodeId}`,
        nodeId,
        requestId: m.requestId,
        buyerId: r.buyerId,
        bundleId: `${nodeId}:${windowStart}:${m.gridNodeId}:${m.direction}`,
        gridNodeId: m.gridNodeId,
        direction: m.direction,
        quantityW,
        clearingPrice: Math.max(...m.allocations.map((a) => a.unitPrice)),
        period: windowStart,
        periodEnd: windowEnd,
        deviceCount: new Set(m.allocations.map((a) => a.deviceId)).size,
        status: "awarded",
        awardedAt: Date.now(),
      };
      const rec = { trade, allocations: m.allocations };
      trades.set(trade.id, rec);
      persist("trades", trade.id, rec);
      feed.publish("trade", trade);
      for (const a of m.allocations) {
        if (a.nodeId !== nodeId) continue;
        sendOfferResult(a.deviceId, { offerId: a.offerId.slice(a.deviceId.length + 1), status: "awarded", windowStart, quantityW: a.quantityW });
      }
    }
  };

  const bundleTick = () => {
    const now = Date.now();
    while (windowOf(nextWindow).windowStart - gateMs <= now) {
      // After a long outage, windows already over are not sealed retroactively.
      if (windowOf(nextWindow).windowEnd > now) seal(nextWindow);
      nextWindow++;
    }
    for (const o of book.sweep(now)) {
      if (o.nodeId !== nodeId) continue;
      persist("offers", o.id, null);
    }
    for (const rec of requests.values()) if (rec.request.status === "active" && rec.request.expiresAt <= now) updateRequest(rec, { status: "expired" });
    roundFor(nextWindow, false);
  };

  // ---------- HTTP ----------
  const principals = new WeakMap<http.IncomingMessage, Principal>();
  const principalOf = (req: http.IncomingMessage) => principals.get(req)!;
  const routes = createRouter<Auth>({
    log,
    authorize: (req, auth) => {
      if (auth === "peer") return true;
      const p = tokens.get(bearerToken(req) ?? "");
      if (!p) return false;
      principals.set(req, p);
      return true;
    },
    unauthorizedMessage: () => "missing or unknown participant token",
  });
  const need = (req: http.IncomingMessage, auth: Auth) => {
    const p = principalOf(req);
    if (auth === "any") return p;
    if (auth === "console" && p.kind === "console") return p;
    if (auth === "trader" && p.kind === "participant" && (p.role === "TSO" || p.role === "DSO")) return p;
    if (auth === "fsp" && p.kind === "participant" && p.role === "FSP") return p;
    reject("http", "forbidden", { participantId: p.kind === "participant" ? p.id : "console" });
    throw new HttpError(403, "forbidden", `this route is for ${auth === "trader" ? "TSO/DSO traders" : auth === "fsp" ? "flexibility service providers" : "the console"}`);
  };
  const sees = (p: Principal, ownerId: string) => p.kind === "console" || p.id === ownerId;
  const wrongParticipant = (p: Principal, buyerId: string) => {
    reject("request", "wrong_participant", { participantId: p.kind === "participant" ? p.id : "console" });
    return new HttpError(403, "wrong_participant", `this token acts for ${p.kind === "participant" ? p.id : "the console"}, not ${buyerId}`);
  };
  const badRequest = (p: Principal, code: string, message: string) => {
    reject("request", code, { participantId: p.kind === "participant" ? p.id : undefined });
    return new HttpError(400, code, message);
  };
  const parseCounted = <T extends ZodType>(p: Principal, schema: T, value: unknown, where: string) => {
    try {
      return parseInput(schema, value, where);
    } catch (error) {
      reject(where, "invalid", { participantId: p.kind === "participant" ? p.id : undefined });
      throw error;
    }
  };

  const checkPeriod = (p: Principal, r: { periodFrom: number; periodTo: number; expiresAt?: number; quantityW: number; minQuantityW?: number }) => {
    const now = Date.now();
    if (r.periodTo <= r.periodFrom) throw badRequest(p, "empty_period", "periodTo must be after periodFrom");
    if (r.periodTo <= now) throw badRequest(p, "period_in_past", "the period is over");
    if (r.periodTo - now > LIMITS.maxHorizonMs) throw badRequest(p, "period_too_far", `at most ${LIMITS.maxHorizonMs / 86_400_000} days ahead`);
    if (r.periodFrom % periodMs !== 0 || r.periodTo % periodMs !== 0) throw badRequest(p, "period_not_aligned", `periods start and end on ${periodMs} ms boundaries`);
    if (r.quantityW <= 0) throw badRequest(p, "quantity_not_positive", "quantityW must be positive");
    if ((r.minQuantityW ?? 0) > r.quantityW) throw badRequest(p, "min_quantity_above_quantity", "minQuantityW must not exceed quantityW");
    if (r.expiresAt !== undefined && r.expiresAt <= now) throw badRequest(p, "expired", "expiresAt is in the past");
  };

  const route = routes.route;
  const api = (path: string) => `${FLEX_API_PREFIX}${path}`;

  route("GET", api("/node"), "any", async ({ res }) => sendJson(res, 200, info()));
  route("GET", api("/health"), "any", async ({ res }) => sendJson(res, 200, nodeHealth()));

  route("POST", api("/requests"), "any", async ({ req, res }) => {
    const p = need(req, "trader");
    const body = parseCounted(p, createRequestSchema, await readJsonBody(req), "body");
    if (p.kind !== "participant" || body.buyerId !== p.id) throw wrongParticipant(p, body.buyerId);
    if ((body.marketId ?? marketId) !== marketId) throw badRequest(p, "unknown_market", `this node trades ${marketId}`);
    if (role === "DSO" && (!body.gridNodeId || !gridNodes.has(body.gridNodeId))) throw badRequest(p, "grid_node_not_served", `a DSO request names one of ${[...gridNodes].join(", ")}`);
    checkPeriod(p, body);
    const id = body.id ?? `req-${randomBytes(6).toString("hex")}`;
    const existing = requests.get(id);
    if (existing) {
      if (existing.request.buyerId !== p.id) throw wrongParticipant(p, existing.request.buyerId);
      return sendJson(res, 200, { ...existing.request, revisions: existing.revisions });
    }
    const now = Date.now();
    const request: FlexRequest = {
      id,
      buyerId: body.buyerId,
      nodeId,
      marketId,
      gridNodeId: body.gridNodeId,
      direction: body.direction,
      periodFrom: body.periodFrom,
      periodTo: body.periodTo,
      quantityW: body.quantityW,
      minQuantityW: body.minQuantityW ?? 0,
      maxUnitPrice: body.maxUnitPrice,
      expiresAt: body.expiresAt ?? body.periodTo,
      revision: 1,
      status: "active",
      receivedAt: now,
      updatedAt: now,
    };
    const rec: RequestRec = { request, revisions: [revisionOf(request)] };
    requests.set(id, rec);
    persist("requests", id, rec);
    feed.publish("request", request);
    sendJson(res, 201, { ...request, revisions: rec.revisions });
  });

  const ownRequest = (req: http.IncomingMessage, id: string) => {
    const p = principalOf(req);
    const rec = requests.get(id);
    if (!rec || !sees(p, rec.request.buyerId)) throw new HttpError(404, "not_found", `no request ${id}`);
    return { p, rec };
  };

  route("GET", api("/requests"), "any", async ({ req, res, query }) => {
    const p = principalOf(req);
    const list = [...requests.values()].map((r) => r.request).filter((r) => sees(p, r.buyerId) && (!query.status || r.status === query.status));
    sendJson(res, 200, { requests: list });
  });
  route("GET", api("/requests/:id"), "any", async ({ req, res, params }) => {
    const { rec } = ownRequest(req, params[0]);
    sendJson(res, 200, { ...rec.request, revisions: rec.revisions });
  });
  route("PATCH", api("/requests/:id"), "any", async ({ req, res, params }) => {
    const p = need(req, "trader");
    const { rec } = ownRequest(req, params[0]);
    if (p.kind !== "participant" || rec.request.buyerId !== p.id) throw wrongParticipant(p, rec.request.buyerId);
    const body = parseCounted(p, reviseRequestSchema, await readJsonBody(req), "body");
    if (rec.request.status !== "active") throw new HttpError(409, "not_active", `the request is ${rec.request.status}`);
    if (body.revision !== undefined && body.revision !== rec.request.revision) throw new HttpError(409, "revision_conflict", `the request is at revision ${rec.request.revision}`);
    const { revision: _revision, ...change } = body;
    const next = { ...rec.request, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
    checkPeriod(p, next);
    updateRequest(rec, next, true);
    sendJson(res, 200, { ...rec.request, revisions: rec.revisions });
  });
  route("DELETE", api("/requests/:id"), "any", async ({ req, res, params }) => {
    const p = need(req, "trader");
    const { rec } = ownRequest(req, params[0]);
    if (p.kind !== "participant" || rec.request.buyerId !== p.id) throw wrongParticipant(p, rec.request.buyerId);
    if (rec.request.status !== "active") throw new HttpError(409, "not_active", `the request is ${rec.request.status}`);
    updateRequest(rec, { status: "cancelled" }, true);
    sendJson(res, 200, { ...rec.request, revisions: rec.revisions });
  });

  route("GET", api("/orderbook"), "any", async ({ res, query }) => {
    const list = [...depth.values()].filter((d) => (!query.gridNode || d.gridNodeId === query.gridNode) && (!query.direction || d.direction === query.direction));
    sendJson(res, 200, { depth: list });
  });
  route("GET", api("/bundles"), "any", async ({ req, res, query }) => {
    const p = principalOf(req);
    const window = query.window ? Number(query.window) : undefined;
    const list = [...bundles.values()].filter((b) => window === undefined || b.windowStart === window).map((b) => (p.kind === "console" ? b : hideOfferIds(b)));
    sendJson(res, 200, { bundles: list });
  });
  route("GET", api("/trades"), "any", async ({ req, res }) => {
    const p = principalOf(req);
    sendJson(res, 200, { trades: [...trades.values()].map((t) => t.trade).filter((t) => sees(p, t.buyerId)) });
  });
  route("GET", api("/activations"), "any", async ({ req, res, query }) => {
    const p = principalOf(req);
    const visible = (tradeId: string) => {
      const t = trades.get(tradeId);
      return !!t && sees(p, t.trade.buyerId) && (!query.tradeId || query.tradeId === tradeId);
    };
    const steps = [...tradeSteps.entries()].filter(([id]) => visible(id)).flatMap(([, m]) => [...m.values()]);
    sendJson(res, 200, { signals: [...signalHistory.values()].filter((s) => visible(s.tradeId)), steps: steps.slice(-2000) });
  });
  const signalHistory = new Map<string, ActivationSignal>();
  route("POST", api("/activation-signals"), "any", async ({ req, res }) => {
    const p = need(req, "trader");
    const body = parseCounted(p, activationSignalInputSchema, await readJsonBody(req), "body");
    const rec = trades.get(body.tradeId);
    if (!rec || !sees(p, rec.trade.buyerId)) {
      reject("signal", "unknown_trade", { participantId: p.kind === "participant" ? p.id : undefined });
      throw new HttpError(404, "unknown_trade", `no trade ${body.tradeId}`);
    }
    if (p.kind !== "participant" || rec.trade.buyerId !== p.id) throw wrongParticipant(p, rec.trade.buyerId);
    const now = Date.now();
    if (body.setpointW > rec.trade.quantityW) throw badRequest(p, "exceeds_trade_quantity", `the trade covers ${rec.trade.quantityW} W`);
    if (now >= rec.trade.periodEnd) throw new HttpError(409, "trade_period_over", "the trade's period is over");
    const until = Math.min(body.until ?? rec.trade.periodEnd, rec.trade.periodEnd);
    if (until <= now) throw badRequest(p, "until_in_past", "until is in the past");
    const signal: ActivationSignal = { id: `sig:${rec.trade.id}:${now}`, tradeId: rec.trade.id, buyerId: rec.trade.buyerId, setpointW: body.setpointW, from: now, until, receivedAt: now };
    signals.set(rec.trade.id, signal);
    signalHistory.set(signal.id, signal);
    const step = activation.stepTrade(rec.trade, rec.allocations, body.setpointW, now);
    if (body.setpointW > 0) setTradeStatus(rec, "activating");
    persist("signals", signal.id, signal);
    // The 202 promises the signal survives a crash: it is in storage before we answer.
    await flush();
    sendJson(res, 202, { signal, step });
  });
  route("GET", api("/settlements"), "any", async ({ req, res }) => {
    const p = principalOf(req);
    sendJson(res, 200, { settlements: [...settlements.values()].filter((s) => sees(p, s.buyerId)) });
  });

  const register = (ownerId: string, d: RegisterDevice): RegisteredDevice => {
    const prev = devices.get(d.id);
    if (prev && prev.device.ownerId !== ownerId) throw new HttpError(409, "device_taken", `device ${d.id} belongs to another participant`);
    if (!gridNodes.has(d.gridNodeId)) throw new HttpError(400, "grid_node_not_served", `this node serves ${[...gridNodes].join(", ")}`);
    if (d.pMinW > d.pMaxW) throw new HttpError(400, "invalid_limits", "pMinW must not exceed pMaxW");
    const password = newDevicePassword();
    const device: Device = { ...d, ownerId, nodeId, registeredAt: prev?.device.registeredAt ?? Date.now() };
    const rec: DeviceRec = { device, passwordHash: hashDevicePassword(password), online: prev?.online ?? false, powerW: prev?.powerW ?? null, setpointW: prev?.setpointW ?? null, lastSeen: prev?.lastSeen ?? 0 };
    devices.set(d.id, rec);
    persist("devices", d.id, { device, passwordHash: rec.passwordHash });
    return { device, username: deviceUsername(d.id), password, topicRoot, nodePublicKey: signer.publicKey };
  };

  route("POST", api("/devices"), "any", async ({ req, res }) => {
    const p = need(req, "fsp");
    const body = parseCounted(p, registerDevicesSchema, await readJsonBody(req, 1024 * 1024), "body");
    if (p.kind !== "participant") throw new HttpError(403, "forbidden", "FSPs register devices");
    for (const d of body.devices) {
      if (!gridNodes.has(d.gridNodeId)) throw badRequest(p, "grid_node_not_served", `device ${d.id}: this node serves ${[...gridNodes].join(", ")}`);
      if (d.pMinW > d.pMaxW) throw badRequest(p, "invalid_limits", `device ${d.id}: pMinW must not exceed pMaxW`);
      const prev = devices.get(d.id);
      if (prev && prev.device.ownerId !== p.id) throw new HttpError(409, "device_taken", `device ${d.id} belongs to another participant`);
    }
    const registered = body.devices.map((d) => register(p.id, d));
    await flush();
    sendJson(res, 201, { devices: registered });
  });
  route("GET", api("/devices"), "any", async ({ req, res }) => {
    const p = principalOf(req);
    const list = [...devices.values()].filter((d) => sees(p, d.device.ownerId)).map((d) => ({ ...d.device, online: d.online, powerW: d.powerW, setpointW: d.setpointW }));
    sendJson(res, 200, { devices: list });
  });
  route("GET", api("/events"), "any", async ({ req, res }) => {
    need(req, "console");
    const last = req.headers["last-event-id"];
    feed.serve(req, res, Array.isArray(last) ? last[0] : last);
  });
  route("POST", PEER_PATH, "peer", async ({ req, res }) => {
    if (!peerBus) throw new HttpError(404, "not_found", "this node has no peers");
    const result = peerBus.receive(await readJsonBody(req, 16 * 1024 * 1024));
    if (!result.ok) throw new HttpError(result.reason === "malformed" ? 400 : 403, result.reason, `peer envelope refused: ${result.reason}`);
    sendJson(res, 200, { ok: true });
  });

  const ops = createOpsHandler({
    registry,
    check: () => ({ ok: client.connected, nodeId, role, mqtt: client.connected ? "connected" : "disconnected", store: store.kind, devices: devices.size, offers: book.size() }),
  });
  const server = http.createServer((req, res) => {
    if (ops(req, res)) return;
    routes.handle(req, res);
  });

  new Gauge({ name: "flex_devices_online", help: "Devices whose last status was online", registers: [registry], collect() { this.set([...devices.values()].filter((d) => d.online).length); } });
  new Gauge({ name: "flex_offers_open", help: "Offers in the book (own and replicated)", registers: [registry], collect() { this.set(book.size()); } });
  new Gauge({ name: "flex_feed_clients", help: "Live feed subscribers", registers: [registry], collect() { this.set(feed.clients()); } });

  const info = (): NodeInfo => ({ nodeId, role, marketId, publicKey: signer.publicKey, gridNodes: [...gridNodes], topicRoot, periodMs, bundleIntervalMs, stepMs, peers: peerBus?.peers() ?? [] });

  // ---------- restore, then start ----------
  const restored = await store.load();
  for (const [id, v] of restored.devices) {
    const { device, passwordHash } = v as { device: Device; passwordHash: string };
    devices.set(id, { device, passwordHash, online: false, powerW: null, setpointW: null, lastSeen: 0 });
  }
  for (const v of restored.offers.values()) {
    const o = offerSchema.safeParse(v);
    if (o.success && o.data.nodeId === nodeId) book.upsert(o.data);
  }
  for (const [id, v] of restored.requests) requests.set(id, v as RequestRec);
  for (const [id, v] of restored.trades) trades.set(id, v as TradeRec);
  for (const [id, v] of restored.bundles) if (!id.startsWith("collecting:")) bundles.set(id, v as Bundle);
  for (const [key, v] of restored.bundles) if (key.startsWith("collecting:")) for (const b of v as Bundle[]) bundles.set(b.id, b);
  for (const v of restored.steps.values()) {
    const s = v as ActivationStep;
    let m = tradeSteps.get(s.tradeId);
    if (!m) tradeSteps.set(s.tradeId, (m = new Map()));
    m.set(s.stepTs, s);
    activation.restoreStep(s);
  }
  for (const v of restored.signals.values()) {
    const s = v as ActivationSignal;
    signalHistory.set(s.id, s);
    const current = signals.get(s.tradeId);
    if (!current || current.receivedAt < s.receivedAt) signals.set(s.tradeId, s);
  }
  for (const [id, v] of restored.settlements) settlements.set(id, v as Settlement);
  const now0 = Date.now();
  nextWindow = Math.max(Number(restored.meta.get("nextWindow") ?? 0), Math.floor((now0 + gateMs) / periodMs) + 1);
  // Sorting restored offers by receipt time restores time priority.
  const restoredOffers = [...book.offers.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  for (const o of restoredOffers) book.remove(o.id);
  for (const o of restoredOffers) book.upsert(o);
  if (restored.requests.size + restored.offers.size + restored.signals.size > 0) {
    log.info({ store: store.kind, devices: devices.size, offers: book.size(), requests: requests.size, trades: trades.size, signals: signals.size }, "flex node state restored");
  }

  // The client has been connecting since the top; restoring may well have outlasted that.
  await new Promise<void>((resolve, reject_) => {
    if (client.connected) return resolve();
    const timer = setTimeout(() => reject_(new Error(`could not connect to MQTT broker ${opts.mqttUrl} within 15000 ms`)), 15_000);
    client.once("connect", () => (clearTimeout(timer), resolve()));
  }).catch(async (error: unknown) => {
    await client.endAsync(true).catch(() => {});
    throw error;
  });
  const w = deviceWildcards(topicRoot);
  await client.subscribeAsync([w.offers, w.ack, w.telemetry, w.status], { qos: 1 });

  let port: number;
  try {
    port = await listen(server, opts.port ?? 8200, host);
  } catch (error) {
    await client.endAsync(true).catch(() => {});
    throw new Error(`flex node ${nodeId} could not listen on ${host}:${opts.port ?? 8200}: ${(error as Error).message}`);
  }
  cleanups.push(async () => {
    feed.close();
    server.closeAllConnections();
    await closeServer(server);
  });
  const url = `http://${urlHost(host)}:${port}`;

  every(flushMs, () => void flush());
  every(bundleIntervalMs, bundleTick);
  every(stepCheckMs, stepTick);
  every(200, () => {
    if (!peerBus || (offerOutbox.upserts.size === 0 && offerOutbox.removed.size === 0)) return;
    const upserts = [...offerOutbox.upserts.values()];
    const removed = [...offerOutbox.removed];
    offerOutbox.upserts.clear();
    offerOutbox.removed.clear();
    for (let i = 0; i < Math.max(upserts.length, removed.length); i += 5000) peerBus.broadcast({ type: "offers", upserts: upserts.slice(i, i + 5000), removed: removed.slice(i, i + 5000) });
  });
  every(5000, () => {
    feed.publish("health", nodeHealth());
    peerBus?.broadcast({ type: "hello", epoch, role });
  });
  peerBus?.broadcast({ type: "hello", epoch, role });
  // Activations acknowledged before a crash go on at once, not at the next tick.
  if (signals.size > 0) setImmediate(stepTick);
  log.info({ nodeId, role, url, store: store.kind, peers: opts.peers?.map((p) => p.nodeId) ?? [] }, "flex node started");

  let closing: Promise<void> | undefined;
  return {
    url,
    nodeId,
    role,
    publicKey: signer.publicKey,
    info,
    health: nodeHealth,
    registry,
    /** For the broker: a device's login (username `flex-device-<id>`), its ACL or null. */
    authenticateDevice: (username: string, password: Buffer): BrokerIdentity | null => {
      const id = deviceIdOf(username);
      const rec = id ? devices.get(id) : undefined;
      if (!rec || !samePasswordHash(password, rec.passwordHash)) {
        deviceAuth.inc({ result: rec ? "bad_password" : "unknown_device" });
        return null;
      }
      deviceAuth.inc({ result: "ok" });
      return deviceIdentity(rec.device.id, topicRoot);
    },
    knowsDevice: (id: string) => devices.has(id),
    /** Registers devices for an FSP without HTTP (the site's demo fleet). */
    registerDevices: async (ownerId: string, list: RegisterDevice[]) => {
      if (participantsById.get(ownerId)?.role !== "FSP") throw new Error(`${ownerId} is not an FSP of node ${nodeId}`);
      const out = list.map((d) => register(ownerId, d));
      await flush();
      return out;
    },
    /** Runs one bundling round now (tests, benchmarks). */
    runRoundNow: () => roundFor(nextWindow, false),
    close: () =>
      (closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        await flush();
        for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log.warn({ err: (error as Error).message }, "flex node shutdown step failed"));
        await store.close();
        log.info({ nodeId }, "flex node stopped");
      })()),
  };
};
export type FlexNode = Awaited<ReturnType<typeof startFlexNode>>;
