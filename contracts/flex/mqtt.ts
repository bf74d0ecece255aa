import { z } from "zod";
import { deviceIdPattern, zDeviceWatts, zDirection, zId, zPowerW, zPrice, zTime } from "./entities";

/**
 * The MQTT device interface (reference/flex.md "Wire layout"). A device logs in as
 * `flex-device-<deviceId>` and may publish and subscribe only under its own prefix
 * `flex/v1/devices/<deviceId>/…` (the broker's ACL, see deviceAcl).
 */
export const DEFAULT_TOPIC_ROOT = "flex/v1";
/** No `:` in usernames: Mosquitto's password file separates user and hash with it. */
export const DEVICE_USERNAME_PREFIX = "flex-device-";

export const deviceTopics = (deviceId: string, root = DEFAULT_TOPIC_ROOT) => {
  const base = `${root}/devices/${deviceId}`;
  return {
    base,
    /** device → node: post, revise or cancel an offer. */
    offers: `${base}/offers`,
    /** node → device: accepted / rejected / awarded, with a reason. */
    offerResult: `${base}/offers/result`,
    /** node → device, QoS 0 by default (ACTIVATION_QOS): a setpoint signed in a batch. */
    activation: `${base}/activation`,
    /** device → node: took (or refused) an activation. */
    ack: `${base}/ack`,
    /** device → node: measured power. */
    telemetry: `${base}/telemetry`,
    /** device → node, retained: online, or offline as the last will. */
    status: `${base}/status`,
  };
};

/** What a node subscribes to for every device (one level per device id). */
export const deviceWildcards = (root = DEFAULT_TOPIC_ROOT) => ({
  offers: `${root}/devices/+/offers`,
  ack: `${root}/devices/+/ack`,
  telemetry: `${root}/devices/+/telemetry`,
  status: `${root}/devices/+/status`,
});

export type DeviceTopicKind = "offers" | "ack" | "telemetry" | "status" | "offerResult" | "activation";

/** `<root>/devices/<id>/<kind>` → its parts; undefined for anything else. */
export const parseDeviceTopic = (topic: string, root = DEFAULT_TOPIC_ROOT): { deviceId: string; kind: DeviceTopicKind } | undefined => {
  if (!topic.startsWith(`${root}/devices/`)) return undefined;
  const rest = topic.slice(root.length + 9).split("/");
  const deviceId = rest[0];
  if (!deviceId || !deviceIdPattern.test(deviceId)) return undefined;
  const tail = rest.slice(1).join("/");
  const kind = ({ offers: "offers", "offers/result": "offerResult", activation: "activation", ack: "ack", telemetry: "telemetry", status: "status" } as const)[tail];
  return kind ? { deviceId, kind } : undefined;
};

/**
 * The broker ACL of one device: its own topics, in the direction it may use them. The
 * embedded broker and the Mosquitto ACL file (services/flex/README.md) say the same.
 */
export const deviceAcl = (deviceId: string, root = DEFAULT_TOPIC_ROOT) => {
  const t = deviceTopics(deviceId, root);
  return { publish: [t.offers, t.ack, t.telemetry, t.status], subscribe: [t.offerResult, t.activation] };
};

/** device → node. A new `offerId` posts an offer, a known one revises it, `cancel` withdraws it. */
export const offerPostSchema = z.object({
  offerId: zId,
  marketId: zId.optional(),
  direction: zDirection,
  periodFrom: zTime,
  periodTo: zTime,
  quantityW: zDeviceWatts,
  unitPrice: zPrice,
  minAcceptanceW: zDeviceWatts.optional(),
  baselineW: zPowerW,
  expiresAt: zTime.optional(),
});
export const offerCancelSchema = z.object({ offerId: zId, cancel: z.literal(true) });
export const offerMessageSchema = z.union([offerPostSchema, offerCancelSchema]);
export type OfferMessage = z.infer<typeof offerMessageSchema>;
/** The schema a payload is checked against, so its errors name the fields that are wrong. */
export const offerSchemaFor = (body: unknown) => (typeof body === "object" && body !== null && "cancel" in body ? offerCancelSchema : offerPostSchema);

export const offerResultSchema = z.object({
  /** `*` when the answer is about every offer of the device (throttling). */
  offerId: z.union([zId, z.literal("*")]),
  status: z.enum(["accepted", "rejected", "cancelled", "awarded", "throttled"]),
  revision: z.number().int().optional(),
  reason: z.string().optional(),
  /** With `awarded`: the window and how much of the offer was taken. */
  windowStart: zTime.optional(),
  quantityW: z.number().optional(),
  at: zTime,
});
export type OfferResult = z.infer<typeof offerResultSchema>;

/** What the node signs: every field of an activation except the signature itself. */
export const activationBodySchema = z.object({
  deviceId: zId,
  /** The node the device is connected to, whose key signed this. */
  nodeId: zId,
  /** Strictly increasing per device: a repeated or older seq is a replay. */
  seq: z.number().int().min(0),
  stepTs: zTime,
  setpointW: zPowerW,
  /** The device falls back to its baseline after this unless a newer step arrives. */
  validUntil: zTime,
  tradeIds: z.array(z.string()).max(64),
});
export type ActivationBody = z.infer<typeof activationBodySchema>;
/**
 * Where a body sits in the batch it was signed with (lib/flex/activation-batch.ts): its
 * index, the batch's size and the sibling hashes (base64 SHA-256) from its leaf to the root.
 */
export const activationProofSchema = z
  .object({
    index: z.number().int().min(0),
    size: z.number().int().min(1).max(65_536),
    path: z.array(z.string().length(44)).max(16),
  })
  .refine((p) => p.index < p.size, { message: "index must be below size" });
export type ActivationProof = z.infer<typeof activationProofSchema>;
/** node → device: the body, its batch proof, and the node's Ed25519 signature (base64) over the batch's root. */
export const activationMessageSchema = activationBodySchema.extend({ proof: activationProofSchema, signature: z.string().min(1).max(200) });
export type ActivationMessage = z.infer<typeof activationMessageSchema>;

export const ACK_STATUSES = ["ok", "rejected"] as const;
/** device → node. `powerW` is what the device draws as it takes the new setpoint. */
export const ackMessageSchema = z.object({
  seq: z.number().int().min(0),
  stepTs: zTime,
  status: z.enum(ACK_STATUSES),
  reason: z.enum(["bad_signature", "replayed", "expired", "malformed", "out_of_range"]).optional(),
  powerW: zPowerW,
  at: zTime,
});
export type AckMessage = z.infer<typeof ackMessageSchema>;
/**
 * Acks go at QoS 0. An ack is itself the delivery receipt and is only worth anything inside
 * the node's 1 s ack timeout: on a live connection TCP already delivers it, and QoS 1 would
 * only add a PUBACK each way to redeliver it after
 * a reconnect, by which time it is late and the next step has re-sent the setpoint.
 */
export const ACK_QOS = 0 as const;
/**
 * Activations go at QoS 0 by default (`FLEX_ACTIVATION_QOS=1` for brokers and devices that
 * keep persistent sessions). The node's proof of delivery is the device's ack within 1 s,
 * and a setpoint is superseded by the next step 2 s later, so QoS 1 bought only a PUBACK on
 * each leg (half the broker's packets per step) and a resend of stale setpoints after a
 * reconnect, which devices refuse as expired or replayed anyway.
 */
export const ACTIVATION_QOS = 0 as const;

export const telemetryMessageSchema = z.object({
  ts: zTime,
  powerW: zPowerW,
  setpointW: zPowerW.optional(),
  socPct: z.number().min(0).max(100).optional(),
});
export type TelemetryMessage = z.infer<typeof telemetryMessageSchema>;

export const statusMessageSchema = z.object({ state: z.enum(["online", "offline"]), at: zTime.optional(), kind: z.string().max(32).optional() });
export type StatusMessage = z.infer<typeof statusMessageSchema>;
