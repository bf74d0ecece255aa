import { randomBytes } from "node:crypto";
import http from "node:http";
import type { Redis } from "ioredis";
import { connect, type MqttClient } from "mqtt";
import type pino from "pino";
import { Counter, Gauge, Histogram } from "prom-client";
import {
  type Depth,
  type FeedSnapshot,
  type NodeHealth,
  type NodeInfo,
  type PeerMessage,
  type RegisterDevice,
} from "../../contracts/flex/api";
import {
  offerSchema,
  type ActivationSignal,
  type ActivationStep,
  type Bundle,
  type FlexOffer,
  type FlexRequest,
  type NodeRole,
  type Settlement,
  type Trade,
} from "../../contracts/flex/entities";
import {
  ACTIVATION_QOS,
  ackMessageSchema,
  DEFAULT_TOPIC_ROOT,
  deviceTopics,
  deviceWildcards,
  parseDeviceTopic,
  statusMessageSchema,
  telemetryMessageSchema,
  type OfferResult,
} from "../../contracts/flex/mqtt";
import { closeServer, listen, urlHost, withTimeout } from "../../lib/net";
import type { RateLimit } from "../csms/gateway/rate-limit";
import { createOpsHandler, createRegistry } from "../lib/ops";
import type { BrokerIdentity } from "../site/module";
import { createActivationRouter, stepKey } from "./activation";
import { deviceIdentity, deviceIdOf, samePasswordHash } from "./broker-acl";
import { createOrderBook } from "./book";
import { runRound, type RequestAllocation } from "./bundler";
import { createLiveFeed } from "./feed";
import { createPeerBus, type PeerBus, type PeerConfig } from "./peers";
import { settleTrade } from "./settlement";
import { createFlexHttpApi } from "./node-http";
import { createOfferIntake } from "./node-offers";
import { restoreFlexState } from "./node-restore";
import { revisionOf, type DeviceRec, type RequestRec, type TradeRec, type Principal } from "./node-types";
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
  /** Setpoints signed and published per event-loop turn (activation.ts). */
  sendChunk?: number;
  /** Setpoints under one batch signature (activation.ts). */
  signBatch?: number;
  /** MQTT QoS of activations (default 0: the device's ack is the receipt; contracts/flex/mqtt.ts). */
  activationQos?: 0 | 1;
  flushMs?: number;
  offerRate?: RateLimit;
  maxOffersPerDevice?: number;
  penaltyFactor?: number;
  log: pino.Logger;
};

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
  const signalHistory = new Map<string, ActivationSignal>();
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

  const handleOffer = createOfferIntake({ nodeId, marketId, periodMs, offerRate, maxOffersPerDevice, book, offersIn, reject, sendOfferResult, persist, replicate });

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
  const activationQos = opts.activationQos ?? ACTIVATION_QOS;
  const activation = createActivationRouter({
    nodeId,
    signer,
    stepMs,
    ackTimeoutMs,
    sendChunk: opts.sendChunk,
    signBatch: opts.signBatch,
    device: (id) => devices.get(id)?.device,
    publish: (deviceId, message) => {
      const rec = devices.get(deviceId);
      if (rec) rec.setpointW = message.setpointW;
      publish(deviceTopics(deviceId, topicRoot).activation, JSON.stringify(message), activationQos);
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
  const { routes, register } = createFlexHttpApi({
    log, nodeId, role, marketId, periodMs, topicRoot, gridNodes, tokens, signer, devices, requests, trades, bundles, depth, tradeSteps, signals, signalHistory, settlements,
    reject, persist, flush, feed, updateRequest, setTradeStatus, hideOfferIds, activation, peerBus, info: () => info(), nodeHealth,
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
  nextWindow = restoreFlexState(restored, { nodeId, periodMs, gateMs, devices, book, requests, trades, bundles, tradeSteps, activation, signals, signalHistory, settlements });
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
