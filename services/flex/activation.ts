import type { ActivationStep, Allocation, Direction, Trade } from "../../contracts/flex/entities";
import type { AckMessage, ActivationBody, ActivationMessage } from "../../contracts/flex/mqtt";
import type { PeerBus } from "./peers";
import type { Signer } from "./signing";

/**
 * The activation router, in two halves.
 *
 * Origin (the node holding the trade): every step (2 s) and at once on a new LFC signal, it
 * splits the trade's requested level over its devices in merit order, hands local devices'
 * shares to its own device half and forwards the others in one hop to the node each device
 * is connected to. It collects acks per step and measures delivery.
 *
 * Device half (the node a device is connected to): it adds up every share a device holds
 * (from its own trades and peers'), signs one setpoint per device with this node's key and
 * publishes it; acks are tracked with a 1 s timeout and reported back to each origin (a
 * forwarded activation's acks travel back the way it came).
 *
 * Sending is pipelined: shares go into one queue (a device queued twice is sent once, with
 * every share it holds), and the queue is signed and published `sendChunk` devices at a time,
 * the first chunk at once and the rest one event-loop turn apart; in one burst no device
 * heard anything until the last was out, and acks waited behind them. Every `signBatch`
 * setpoints of a chunk go under one signature (lib/flex/activation-batch.ts): one Ed25519
 * signature per device was ~0.4 s of CPU per 10,000-device step, two thirds of the router's time.
 */
export type DeviceLimits = { pMinW: number; pMaxW: number };
export type DeviceShare = { deviceId: string; activationW: number; direction: Direction; baselineW: number };
export type AckReport = { tradeId: string; deviceId: string; stepTs: number; status: "ok" | "rejected" | "late"; latencyMs: number | null; powerW: number | null };

type Delta = { origin: string; tradeId: string; stepTs: number; activationW: number; direction: Direction; baselineW: number; validUntil: number };
type Pending = { seq: number; sentAt: number; sources: { origin: string; tradeId: string; stepTs: number }[]; reported: boolean };
type StepRec = ActivationStep & { shares: Map<string, { w: number; baselineW: number; direction: Direction }>; reported: Set<string>; prev?: StepRec };

export type ActivationRouterOptions = {
  nodeId: string;
  signer: Signer;
  stepMs: number;
  ackTimeoutMs: number;
  device: (deviceId: string) => DeviceLimits | undefined;
  publish: (deviceId: string, message: ActivationMessage) => void;
  peers?: PeerBus;
  /** A step changed (opened, closed, delivery measured): feed and storage. */
  onStep: (step: ActivationStep) => void;
  /** A device refused an activation, or a forward had no route. */
  onRejected: (reason: string, deviceId?: string) => void;
  now?: () => number;
  /** Devices signed and published per event-loop turn (default 200). */
  sendChunk?: number;
  /** Setpoints under one batch signature at most (default 200, a whole chunk): fewer signatures for the node; each device hashes log2(batch) + 1 times. */
  signBatch?: number;
};

export const stepKey = (tradeId: string, stepTs: number) => `${tradeId}@${stepTs}`;

/** Merit order: the cheapest devices first, the last one partly. */
export const splitLevel = (allocations: Allocation[], levelW: number) => {
  const sorted = [...allocations].sort((a, b) => a.unitPrice - b.unitPrice || (a.offerId < b.offerId ? -1 : 1));
  const shares = new Map<string, { a: Allocation; w: number }>();
  let left = levelW;
  for (const a of sorted) {
    const w = Math.max(0, Math.min(a.quantityW, left));
    left -= w;
    const prev = shares.get(a.deviceId);
    shares.set(a.deviceId, { a, w: (prev?.w ?? 0) + w });
  }
  return shares;
};

export const createActivationRouter = (opts: ActivationRouterOptions) => {
  const now = opts.now ?? Date.now;
  const deltas = new Map<string, Map<string, Delta>>();
  const pending = new Map<string, Pending>();
  const lastSeq = new Map<string, number>();
  const steps = new Map<string, StepRec>();
  const lastStepOf = new Map<string, StepRec>();
  const outbox = new Map<string, AckReport[]>();
  let outboxScheduled = false;
  const timers = new Set<NodeJS.Timeout>();
  const lateAcks = { count: 0 };
  const sendChunk = Math.max(1, opts.sendChunk ?? 200);
  const signBatch = Math.max(1, opts.signBatch ?? 200);
  /** Devices waiting to be signed and sent, in arrival order, each with every step it answers. */
  const outgoing = new Map<string, { stepTs: number; sources: Pending["sources"] }>();
  let pumpScheduled = false;
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const publicStep = (s: StepRec): ActivationStep => {
    const { shares: _shares, reported: _reported, prev: _prev, ...step } = s;
    return step;
  };

  // ---------- origin half ----------

  const closeIfDone = (s: StepRec) => {
    if (s.closed || s.acked + s.late + s.rejected < s.devices) return;
    s.closed = true;
    opts.onStep(publicStep(s));
  };

  /** Splits `levelW` over the trade's devices and dispatches; returns the new step. */
  const stepTrade = (trade: Trade, allocations: Allocation[], levelW: number, stepTs = now()) => {
    const previous = lastStepOf.get(trade.id);
    const split = splitLevel(allocations, Math.min(levelW, trade.quantityW));
    const shares: StepRec["shares"] = new Map();
    for (const [deviceId, { a, w }] of split) {
      // Devices idle now and idle before need no message.
      if (w === 0 && !(previous?.shares.get(deviceId)?.w ?? 0)) continue;
      shares.set(deviceId, { w, baselineW: a.baselineW, direction: trade.direction });
    }
    const rec: StepRec = {
      tradeId: trade.id,
      stepTs,
      requestedW: Math.min(levelW, trade.quantityW),
      deliveredW: null,
      devices: shares.size,
      acked: 0,
      late: 0,
      rejected: 0,
      maxLatencyMs: null,
      closed: false,
      shares,
      reported: new Set(),
      prev: previous,
    };
    if (previous) previous.prev = undefined;
    steps.set(stepKey(trade.id, stepTs), rec);
    lastStepOf.set(trade.id, rec);
    const validUntil = stepTs + Math.round(opts.stepMs * 2.5);
    const byNode = new Map<string, DeviceShare[]>();
    for (const [deviceId, share] of shares) {
      const a = split.get(deviceId)!.a;
      let list = byNode.get(a.nodeId);
      if (!list) byNode.set(a.nodeId, (list = []));
      list.push({ deviceId, activationW: share.w, direction: share.direction, baselineW: share.baselineW });
    }
    for (const [nodeId, list] of byNode) {
      if (nodeId === opts.nodeId) applyShares(opts.nodeId, trade.id, stepTs, validUntil, list);
      else if (opts.peers?.has(nodeId)) opts.peers.send(nodeId, { type: "activate", tradeId: trade.id, stepTs, validUntil, devices: list });
      else {
        opts.onRejected("no_route");
        for (const d of list) recordAck({ tradeId: trade.id, deviceId: d.deviceId, stepTs, status: "late", latencyMs: null, powerW: null });
      }
    }
    // Devices first; the feed and storage hear of the step after its first setpoints are out.
    if (!rec.closed) opts.onStep(publicStep(rec));
    // Backstop: a lost report (a peer gone) must not keep a step open forever.
    later(opts.ackTimeoutMs + 2000, () => {
      if (rec.closed) return;
      for (const deviceId of rec.shares.keys()) if (!rec.reported.has(deviceId)) recordAck({ tradeId: trade.id, deviceId, stepTs, status: "late", latencyMs: null, powerW: null });
    });
    if (shares.size === 0) closeIfDone(rec);
    return publicStep(rec);
  };

  /** An ack (local, or reported back by the device's node) for one device of one step. */
  const recordAck = (r: AckReport) => {
    const s = steps.get(stepKey(r.tradeId, r.stepTs));
    if (!s || s.reported.has(r.deviceId) || !s.shares.has(r.deviceId)) return;
    s.reported.add(r.deviceId);
    if (r.status === "ok") s.acked++;
    else if (r.status === "rejected") s.rejected++;
    else s.late++;
    if (r.latencyMs !== null && r.status !== "late") s.maxLatencyMs = Math.max(s.maxLatencyMs ?? 0, r.latencyMs);
    // The power a device reports as it takes this step is what it delivered in the last one.
    if (r.powerW !== null) {
      const prev = previousStep(s);
      const had = prev?.shares.get(r.deviceId);
      if (prev && had && had.w > 0) {
        const delivered = had.direction === "up" ? had.baselineW - r.powerW : r.powerW - had.baselineW;
        prev.deliveredW = (prev.deliveredW ?? 0) + Math.max(0, Math.min(delivered, had.w));
      }
    }
    const wasClosed = s.closed;
    closeIfDone(s);
    if (!wasClosed && s.closed) {
      const prev = previousStep(s);
      if (prev) opts.onStep(publicStep(prev));
    }
  };

  const previousStep = (s: StepRec) => s.prev;

  // ---------- device half ----------

  const report = (origin: string, r: AckReport) => {
    if (origin === opts.nodeId) return recordAck(r);
    let list = outbox.get(origin);
    if (!list) outbox.set(origin, (list = []));
    list.push(r);
    if (!outboxScheduled) {
      outboxScheduled = true;
      setImmediate(() => {
        outboxScheduled = false;
        for (const [to, acks] of outbox) {
          outbox.delete(to);
          opts.peers?.send(to, { type: "acks", acks });
        }
      });
    }
  };

  const finish = (deviceId: string, p: Pending, status: AckReport["status"], powerW: number | null, at: number) => {
    p.reported = true;
    for (const src of p.sources) report(src.origin, { tradeId: src.tradeId, deviceId, stepTs: src.stepTs, status, latencyMs: status === "late" ? null : at - src.stepTs, powerW });
  };

  const publishDevice = (deviceId: string, stepTs: number, sources: Pending["sources"]) => {
    const limits = opts.device(deviceId);
    if (!limits) {
      opts.onRejected("unknown_device", deviceId);
      return;
    }
    const t = now();
    const held = deltas.get(deviceId);
    let baseline: number | undefined;
    let offset = 0;
    const tradeIds: string[] = [];
    let validUntil = stepTs + Math.round(opts.stepMs * 2.5);
    for (const [key, d] of held ?? []) {
      if (d.validUntil <= t) {
        held!.delete(key);
        continue;
      }
      baseline ??= d.baselineW;
      offset += d.direction === "up" ? -d.activationW : d.activationW;
      if (d.activationW > 0) tradeIds.push(d.tradeId);
      validUntil = Math.min(validUntil, d.validUntil);
    }
    if (held && held.size === 0) deltas.delete(deviceId);
    const base = baseline ?? lastBaseline.get(deviceId) ?? 0;
    lastBaseline.set(deviceId, base);
    const setpointW = Math.round(Math.max(limits.pMinW, Math.min(limits.pMaxW, base + offset)));
    // Strictly increasing and restart-proof without storage: at least the clock in ms.
    const seq = Math.max((lastSeq.get(deviceId) ?? 0) + 1, t);
    lastSeq.set(deviceId, seq);
    const body: ActivationBody = { deviceId, nodeId: opts.nodeId, seq, stepTs, setpointW, validUntil, tradeIds: tradeIds.slice(0, 64) };
    const previous = pending.get(deviceId);
    if (previous && !previous.reported) {
      // Superseded before its ack: an older step of the same trade is reported late; other
      // trades' steps ride on the new setpoint (it carries their shares too) and its ack.
      const newer = (s: Pending["sources"][number]) => sources.some((n) => n.origin === s.origin && n.tradeId === s.tradeId);
      const superseded = previous.sources.filter(newer);
      if (superseded.length) finish(deviceId, { ...previous, sources: superseded }, "late", null, t);
      sources = [...previous.sources.filter((s) => !newer(s)), ...sources];
      previous.reported = true;
    }
    const p: Pending = { seq, sentAt: t, sources, reported: false };
    pending.set(deviceId, p);
    return { p, body };
  };
  const lastBaseline = new Map<string, number>();

  /** Signs and publishes the next chunk of the queue; the rest one event-loop turn later. */
  // One live iterator over the queue across chunks: restarting at the front each chunk would
  // walk every slot already sent (a Map keeps them until it compacts).
  let cursor: MapIterator<[string, { stepTs: number; sources: Pending["sources"] }]> | undefined;
  const pump = () => {
    const sent: [string, Pending][] = [];
    const bodies: ActivationBody[] = [];
    while (sent.length < sendChunk) {
      cursor ??= outgoing.entries();
      const next = cursor.next();
      if (next.done) {
        cursor = undefined;
        break;
      }
      const [deviceId, { stepTs, sources }] = next.value;
      outgoing.delete(deviceId);
      const out = publishDevice(deviceId, stepTs, sources);
      if (out) {
        sent.push([deviceId, out.p]);
        bodies.push(out.body);
      } else for (const src of sources) report(src.origin, { tradeId: src.tradeId, deviceId, stepTs: src.stepTs, status: "rejected", latencyMs: null, powerW: null });
    }
    // One signature per `signBatch` setpoints (lib/flex/activation-batch.ts), then their messages.
    for (let i = 0; i < bodies.length; i += signBatch) for (const message of opts.signer.signActivations(opts.nodeId, bodies.slice(i, i + signBatch))) opts.publish(message.deviceId, message);
    // One ack-timeout sweep per chunk, not a timer per device.
    if (sent.length)
      later(opts.ackTimeoutMs, () => {
        for (const [deviceId, p] of sent) if (!p.reported) finish(deviceId, p, "late", null, now());
      });
    if (outgoing.size && !pumpScheduled) schedulePump();
  };
  const schedulePump = () => {
    if (closed) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  };

  const enqueue = (deviceId: string, source: Pending["sources"][number]) => {
    const queued = outgoing.get(deviceId);
    if (!queued) return void outgoing.set(deviceId, { stepTs: source.stepTs, sources: [source] });
    // Queued twice before it went out: one message answers both; an older step of the same trade is late.
    const same = queued.sources.filter((s) => s.origin === source.origin && s.tradeId === source.tradeId);
    for (const s of same) report(s.origin, { tradeId: s.tradeId, deviceId, stepTs: s.stepTs, status: "late", latencyMs: null, powerW: null });
    queued.sources = [...queued.sources.filter((s) => !same.includes(s)), source];
    queued.stepTs = Math.max(queued.stepTs, source.stepTs);
  };

  /** Shares from an origin (this node or a peer) for devices connected here. */
  const applyShares = (origin: string, tradeId: string, stepTs: number, validUntil: number, shares: DeviceShare[]) => {
    let sentFirst = false;
    for (const s of shares) {
      let held = deltas.get(s.deviceId);
      if (!held) deltas.set(s.deviceId, (held = new Map()));
      const key = `${origin}|${tradeId}`;
      if (s.activationW > 0) held.set(key, { origin, tradeId, stepTs, activationW: s.activationW, direction: s.direction, baselineW: s.baselineW, validUntil });
      else {
        lastBaseline.set(s.deviceId, s.baselineW);
        held.delete(key);
      }
      enqueue(s.deviceId, { origin, tradeId, stepTs });
      // The first chunk leaves as soon as it is queued (an LFC signal's first setpoints
      // before the bookkeeping of the other 9,800 devices).
      if (!sentFirst && outgoing.size === sendChunk && !pumpScheduled) {
        sentFirst = true;
        pump();
        // The rest one turn later, whatever the queue held when the first chunk left.
        if (!pumpScheduled) schedulePump();
      }
    }
    if (!pumpScheduled && !sentFirst) pump();
  };

  /** A device's ack from MQTT. */
  const onDeviceAck = (deviceId: string, ack: AckMessage) => {
    const p = pending.get(deviceId);
    if (!p || ack.seq !== p.seq) return "stale" as const;
    if (p.reported) {
      lateAcks.count++;
      return "late" as const;
    }
    if (ack.status === "rejected") opts.onRejected(`device_refused_${ack.reason ?? "unknown"}`, deviceId);
    finish(deviceId, p, ack.status === "ok" ? "ok" : "rejected", ack.powerW, now());
    return ack.status;
  };

  return {
    stepTrade,
    recordAck,
    applyShares,
    onDeviceAck,
    step: (tradeId: string, stepTs: number) => {
      const s = steps.get(stepKey(tradeId, stepTs));
      return s ? publicStep(s) : undefined;
    },
    lastStep: (tradeId: string) => {
      const s = lastStepOf.get(tradeId);
      return s ? publicStep(s) : undefined;
    },
    /** Steps restored from storage (closed, history only). */
    restoreStep: (step: ActivationStep) => {
      const rec: StepRec = { ...step, closed: true, shares: new Map(), reported: new Set() };
      steps.set(stepKey(step.tradeId, step.stepTs), rec);
      const last = lastStepOf.get(step.tradeId);
      if (!last || last.stepTs < step.stepTs) lastStepOf.set(step.tradeId, rec);
    },
    /** Forgets steps older than `before` (they are in storage and the settlement). */
    prune: (before: number) => {
      for (const [k, s] of steps) if (s.stepTs < before && s.closed) steps.delete(k);
    },
    activeDevices: () => deltas.size,
    lateAcks: () => lateAcks.count,
    /** Devices still waiting to be signed and sent. */
    queued: () => outgoing.size,
    close: () => {
      closed = true;
      outgoing.clear();
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
};
export type ActivationRouter = ReturnType<typeof createActivationRouter>;
