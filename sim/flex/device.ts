import { createPublicKey, type KeyObject } from "node:crypto";
import { connect } from "mqtt";
import type { RegisteredDevice } from "../../contracts/flex/api";
import type { DeviceKind } from "../../contracts/flex/entities";
import { deviceTopics, offerResultSchema, ACK_QOS, type AckMessage, type OfferMessage } from "../../contracts/flex/mqtt";
import { rememberingVerifier, verifyStatement, type StatementVerifier } from "../../lib/flex/activation-batch";
import { checkActivation } from "../../lib/flex/check-activation";
import type { Rng } from "../ocpp/rng";

/**
 * One simulated flexible device (battery, heat pump, EV charger) on the MQTT device
 * interface: it posts and revises offers for the coming windows, verifies every
 * activation (its body's path to a batch root signed with the node's Ed25519 key, a strictly
 * increasing `seq`, `validUntil` in the future) and refuses forged, replayed and expired
 * ones, follows accepted setpoints within its ramp limit, and reports acks and telemetry.
 */
export type SimBehaviour = "steady" | "random";

/** What a simulated device needs of an MQTT client: mqtt.js's by default. */
export interface SimMqttClient {
  readonly connected: boolean;
  on(event: "connect", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "message", listener: (topic: string, payload: Buffer) => void): unknown;
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean }): unknown;
  publishAsync(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean }): Promise<unknown>;
  subscribe(topics: string | string[], opts: { qos: 0 | 1 }, callback?: (error?: Error | null) => void): unknown;
  endAsync(force?: boolean): Promise<unknown>;
}
export type SimMqttConnect = (
  url: string,
  opts: { clientId: string; username?: string; password?: string; reconnectPeriod?: number; connectTimeout?: number; will?: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean } },
) => SimMqttClient;
const mqttJs: SimMqttConnect = (url, opts) => connect(url, opts) as unknown as SimMqttClient;

export type SimDeviceOptions = {
  registered: RegisteredDevice;
  mqttUrl: string;
  rng: Rng;
  behaviour: SimBehaviour;
  periodMs: number;
  /** How many windows ahead each offer covers. */
  windows?: number;
  /** Mean time between offer revisions. */
  reviseEveryMs?: number;
  telemetryEveryMs?: number;
  /**
   * Check every activation's signature (default). Off only in the benchmark, to separate the
   * node's latency from the cost of simulating thousands of devices' CPUs on one machine.
   */
  verifySignatures?: boolean;
  /**
   * Devices of one process share one remembering verifier per node key (default): the first
   * device of a batch pays the Ed25519 check of its root and its siblings reuse the answer,
   * as devices with CPUs of their own would each pay it in parallel. Every device still
   * hashes its own body up its own path. False: every device checks every signature itself.
   */
  shareVerification?: boolean;
  /** The MQTT client to use (default mqtt.js; bench:flex passes a leaner one). */
  connect?: SimMqttConnect;
  /** Probability of not acking an activation (random behaviour: a late device). */
  lateProbability?: number;
  onEvent?: (event: { type: "refused"; reason: string } | { type: "followed"; setpointW: number; stepTs: number } | { type: "offer-result"; status: string; reason?: string }) => void;
};

const baselineOf = (kind: DeviceKind, pMinW: number, pMaxW: number) => {
  if (kind === "battery") return 0;
  if (kind === "heat-pump") return Math.round(pMaxW * 0.6);
  return Math.round(pMaxW * 0.8);
};
const priceRange: Record<DeviceKind, [number, number]> = { battery: [60, 180], "heat-pump": [40, 120], "ev-charger": [80, 250] };

/** Per process and node key: the key object and the shared remembering verifier. */
const nodeKeys = new Map<string, { key: KeyObject; shared: StatementVerifier }>();
const nodeKeyOf = (base64: string) => {
  let known = nodeKeys.get(base64);
  if (!known) {
    const key = createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });
    nodeKeys.set(base64, (known = { key, shared: rememberingVerifier(verifyStatement(key)) }));
  }
  return known;
};

export const createSimDevice = (opts: SimDeviceOptions) => {
  const { registered, rng } = opts;
  const { device } = registered;
  const topics = deviceTopics(device.id, registered.topicRoot);
  const { key: nodeKey, shared } = nodeKeyOf(registered.nodePublicKey);
  const verifier = opts.shareVerification === false ? verifyStatement(nodeKey) : shared;
  const baselineW = baselineOf(device.kind, device.pMinW, device.pMaxW);
  const windows = opts.windows ?? 3;
  const reviseEveryMs = opts.reviseEveryMs ?? opts.periodMs / 10;
  const telemetryEveryMs = opts.telemetryEveryMs ?? 2000;
  const stats = { offers: 0, accepted: 0, rejectedOffers: 0, awarded: 0, activations: 0, refused: {} as Record<string, number>, acks: 0 };
  let powerW = baselineW;
  let setpointW: number | null = null;
  let setpointUntil = 0;
  let lastSeq = -1;
  let socPct = 50;
  let nextRevise = 0;
  let nextTelemetry = 0;
  let lastTick = Date.now();
  let priceBias = rng.between(...priceRange[device.kind]);
  let client: SimMqttClient | undefined;

  const publish = (topic: string, body: unknown, qos: 0 | 1 = 0, retain = false) => client?.publish(topic, JSON.stringify(body), { qos, retain });

  const offerFor = (direction: "up" | "down"): OfferMessage | undefined => {
    const capability = direction === "up" ? baselineW - device.pMinW : device.pMaxW - baselineW;
    if (capability <= 0) return undefined;
    const periodFrom = (Math.floor(Date.now() / opts.periodMs) + 1) * opts.periodMs;
    if (opts.behaviour === "random") priceBias = Math.max(0, priceBias + rng.between(-10, 10));
    return {
      offerId: `o-${direction}`,
      direction,
      periodFrom,
      periodTo: periodFrom + windows * opts.periodMs,
      quantityW: Math.max(1, Math.floor(capability * (opts.behaviour === "random" ? rng.between(0.5, 0.9) : 0.8))),
      // Taking power (down) is cheaper to offer than giving it up.
      unitPrice: Math.max(0, Math.round((priceBias + (direction === "down" ? -20 : 0)) * 100) / 100),
      minAcceptanceW: 0,
      baselineW,
    };
  };

  const postOffers = () => {
    for (const direction of ["up", "down"] as const) {
      const offer = offerFor(direction);
      if (!offer) continue;
      stats.offers++;
      publish(topics.offers, offer);
    }
  };

  const refuse = (reason: NonNullable<AckMessage["reason"]>, seq: number, stepTs: number) => {
    stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
    opts.onEvent?.({ type: "refused", reason });
    if (Number.isInteger(seq) && seq >= 0) publish(topics.ack, { seq, stepTs, status: "rejected", reason, powerW: Math.round(powerW), at: Date.now() } satisfies AckMessage, ACK_QOS);
  };

  const onActivation = (payload: Buffer) => {
    const checked = checkActivation(payload, { deviceId: device.id, nodeId: device.nodeId, nodeKey, lastSeq, pMinW: device.pMinW, pMaxW: device.pMaxW, verifySignature: opts.verifySignatures !== false, verifier });
    if (!checked.ok) return refuse(checked.reason, checked.seq, checked.stepTs);
    const { body } = checked;
    lastSeq = body.seq;
    stats.activations++;
    if (opts.behaviour === "random" && rng.next() < (opts.lateProbability ?? 0.02)) return;
    setpointW = body.setpointW === baselineW && body.tradeIds.length === 0 ? null : body.setpointW;
    setpointUntil = body.validUntil;
    opts.onEvent?.({ type: "followed", setpointW: body.setpointW, stepTs: body.stepTs });
    stats.acks++;
    publish(topics.ack, { seq: body.seq, stepTs: body.stepTs, status: "ok", powerW: Math.round(powerW), at: Date.now() } satisfies AckMessage, ACK_QOS);
  };

  /** Physics and schedule; the fleet calls it for every device from one timer. */
  const tick = (now: number) => {
    const dt = Math.max(0, (now - lastTick) / 1000);
    lastTick = now;
    if (setpointW !== null && now > setpointUntil) setpointW = null;
    const target = setpointW ?? baselineW;
    const step = device.rampWps * dt;
    powerW = Math.abs(target - powerW) <= step ? target : powerW + Math.sign(target - powerW) * step;
    if (device.kind === "battery") socPct = Math.max(0, Math.min(100, socPct + ((powerW * dt) / 3600 / 10_000) * 100));
    if (!client?.connected) return;
    if (now >= nextRevise) {
      nextRevise = now + (opts.behaviour === "random" ? rng.between(0.5, 1.5) : 1) * reviseEveryMs;
      postOffers();
    }
    if (now >= nextTelemetry) {
      nextTelemetry = now + telemetryEveryMs;
      publish(topics.telemetry, { ts: now, powerW: Math.round(powerW), setpointW: Math.round(setpointW ?? baselineW), ...(device.kind === "battery" ? { socPct: Math.round(socPct * 10) / 10 } : {}) });
    }
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      client = (opts.connect ?? mqttJs)(opts.mqttUrl, {
        clientId: `sim-${device.id}`,
        username: registered.username,
        password: registered.password,
        reconnectPeriod: 2000,
        connectTimeout: 20_000,
        will: { topic: topics.status, payload: Buffer.from(JSON.stringify({ state: "offline", kind: device.kind })), qos: 1, retain: true },
      });
      let first = true;
      client.on("connect", () => {
        publish(topics.status, { state: "online", at: Date.now(), kind: device.kind }, 1, true);
        client!.subscribe([topics.activation, topics.offerResult], { qos: 1 }, (error) => {
          if (!first) return;
          first = false;
          if (error) reject(error);
          else resolve();
        });
      });
      client.on("error", (error) => {
        if (first) {
          first = false;
          reject(error);
        }
      });
      client.on("message", (topic, payload) => {
        if (topic === topics.activation) return onActivation(payload);
        if (topic === topics.offerResult) {
          const r = offerResultSchema.safeParse(JSON.parse(payload.toString("utf8")));
          if (!r.success) return;
          if (r.data.status === "accepted") stats.accepted++;
          else if (r.data.status === "awarded") stats.awarded++;
          else if (r.data.status === "rejected") stats.rejectedOffers++;
          opts.onEvent?.({ type: "offer-result", status: r.data.status, reason: r.data.reason });
        }
      });
    });

  return {
    id: device.id,
    device,
    baselineW,
    stats,
    start,
    tick,
    postOffers,
    power: () => powerW,
    setpoint: () => setpointW,
    /** Publishes raw bytes on one of this device's topics (tests of hostile devices). */
    publishRaw: (topic: string, payload: string | Buffer) => client?.publish(topic, payload, { qos: 0 }),
    mqtt: () => client,
    close: async () => {
      if (!client) return;
      // A clean stop announces offline itself (a clean disconnect discards the will).
      await client.publishAsync(topics.status, JSON.stringify({ state: "offline", at: Date.now(), kind: device.kind }), { qos: 0, retain: true }).catch(() => {});
      await client.endAsync(true).catch(() => {});
    },
  };
};
export type SimDevice = ReturnType<typeof createSimDevice>;
