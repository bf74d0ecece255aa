import type { KeyObject } from "node:crypto";
import type { Redis } from "ioredis";
import type pino from "pino";
import { peerEnvelopeSchema, type PeerEnvelope, type PeerMessage } from "../../contracts/flex/api";
import { verifyCanonical, type Signer } from "./signing";

/**
 * The node-to-node link: one hop, every envelope signed by its sender (Ed25519 over
 * canonical JSON) and checked against the peer's known public key, fresh within
 * `maxSkewMs`. Two transports: direct HTTP links (POST /peer/v1/messages) or a Redis
 * channel per node. Messages queue per peer and leave together on the next turn of the
 * event loop, so a burst of forwards costs one request.
 */
export type PeerConfig = { nodeId: string; url?: string; publicKey: KeyObject };

export type PeerBus = {
  send: (to: string, message: PeerMessage) => void;
  broadcast: (message: PeerMessage) => void;
  /** Verifies and dispatches one received envelope (the HTTP route calls this). */
  receive: (raw: unknown) => { ok: true } | { ok: false; reason: string };
  peers: () => { nodeId: string; connected: boolean }[];
  has: (nodeId: string) => boolean;
  close: () => Promise<void>;
};

export type PeerBusOptions = {
  nodeId: string;
  signer: Signer;
  peers: PeerConfig[];
  onMessage: (from: string, message: PeerMessage) => void;
  log: pino.Logger;
  /** Redis transport when given (publisher + a dedicated subscriber connection). */
  redis?: { pub: Redis; sub: Redis; prefix: string };
  maxSkewMs?: number;
  onRejected?: (reason: string, from?: string) => void;
};

export const PEER_PATH = "/peer/v1/messages";

export const createPeerBus = async ({ nodeId, signer, peers, onMessage, log, redis, maxSkewMs = 30_000, onRejected = () => {} }: PeerBusOptions): Promise<PeerBus> => {
  const byId = new Map(peers.map((p) => [p.nodeId, p]));
  const queues = new Map<string, PeerMessage[]>();
  const lastOk = new Map<string, number>();
  const reached = new Set<string>();
  /**
   * Signatures of envelopes accepted within the skew window (Ed25519 is deterministic, so a
   * replayed envelope carries the same one): a captured envelope is applied once. Older
   * entries go, since the skew check refuses those envelopes anyway.
   */
  const seen = new Map<string, number>();
  let lastPrune = 0;
  const replayed = (signature: string, sentAt: number) => {
    const now = Date.now();
    if (now - lastPrune > 1000) {
      lastPrune = now;
      for (const [sig, at] of seen) if (at < now - maxSkewMs) seen.delete(sig);
    }
    if (seen.has(signature)) return true;
    seen.set(signature, sentAt);
    return false;
  };
  let scheduled = false;
  let closed = false;

  const envelope = (to: string, messages: PeerMessage[]): PeerEnvelope => {
    const body = { from: nodeId, to, sentAt: Date.now(), messages };
    return { ...body, signature: signer.sign(body) };
  };

  const deliver = async (to: string, messages: PeerMessage[]) => {
    const peer = byId.get(to);
    if (!peer) return;
    const text = JSON.stringify(envelope(to, messages));
    try {
      if (redis) await redis.pub.publish(`${redis.prefix}:peer:${to}`, text);
      else {
        const res = await fetch(`${peer.url}${PEER_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: text, signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      }
      lastOk.set(to, Date.now());
      reached.add(to);
    } catch (error) {
      lastOk.delete(to);
      // Before a peer was ever reached it is most likely still starting (the site starts its
      // nodes one after another); its hello on start brings it our whole book, so nothing is
      // lost. Once it was reached, a failure is worth a warning.
      const fields = { peer: to, err: (error as Error).message, messages: messages.length };
      if (reached.has(to)) log.warn(fields, "peer delivery failed");
      else log.info(fields, "peer not reachable yet; it gets our book when it says hello");
    }
  };

  const flush = () => {
    scheduled = false;
    for (const [to, queue] of queues) {
      queues.delete(to);
      for (let i = 0; i < queue.length; i += 1000) void deliver(to, queue.slice(i, i + 1000));
    }
  };

  const send = (to: string, message: PeerMessage) => {
    if (closed || !byId.has(to)) return;
    let q = queues.get(to);
    if (!q) queues.set(to, (q = []));
    q.push(message);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  const receive: PeerBus["receive"] = (raw) => {
    const parsed = peerEnvelopeSchema.safeParse(raw);
    if (!parsed.success) return reject("malformed");
    const { signature, ...body } = parsed.data;
    const peer = byId.get(body.from);
    if (!peer) return reject("unknown_peer", body.from);
    if (body.to !== nodeId) return reject("wrong_recipient", body.from);
    if (Math.abs(Date.now() - body.sentAt) > maxSkewMs) return reject("stale", body.from);
    // Verify what was received, extra members included, not zod's stripped copy.
    const { signature: _signature, ...unsigned } = raw as PeerEnvelope;
    if (!verifyCanonical(peer.publicKey, unsigned, signature)) return reject("bad_signature", body.from);
    if (replayed(signature, body.sentAt)) return reject("replayed", body.from);
    lastOk.set(body.from, Date.now());
    for (const m of body.messages) {
      try {
        onMessage(body.from, m);
      } catch (error) {
        log.error({ peer: body.from, type: m.type, err: (error as Error).message }, "peer message failed");
      }
    }
    return { ok: true };
  };

  function reject(reason: string, from?: string) {
    onRejected(reason, from);
    log.warn({ reason, from }, "peer envelope refused");
    return { ok: false as const, reason };
  }

  if (redis) {
    const channel = `${redis.prefix}:peer:${nodeId}`;
    redis.sub.on("message", (ch: string, text: string) => {
      if (ch !== channel) return;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        reject("malformed");
        return;
      }
      receive(raw);
    });
    await redis.sub.subscribe(channel);
  }

  return {
    send,
    broadcast: (message) => {
      for (const p of byId.keys()) send(p, message);
    },
    receive,
    peers: () => [...byId.keys()].map((id) => ({ nodeId: id, connected: Date.now() - (lastOk.get(id) ?? 0) < 15_000 })),
    has: (id) => byId.has(id),
    close: async () => {
      closed = true;
      flush();
      if (redis) await redis.sub.unsubscribe().catch(() => {});
    },
  };
};
