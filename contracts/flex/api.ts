import { z } from "zod";
import {
  activationSignalSchema,
  activationStepSchema,
  bundleSchema,
  deviceSchema,
  meritStepSchema,
  requestSchema,
  settlementSchema,
  tradeSchema,
  zDeviceId,
  zDeviceKind,
  zDirection,
  zId,
  zNodeRole,
  zPowerW,
  zPrice,
  zRequestWatts,
  zTime,
} from "./entities";

/**
 * The flex node's HTTP API for TSO/DSO backends, FSPs and the console (services/flex/README.md),
 * and the node-to-node link. Every route needs `Authorization: Bearer <participant token>`.
 */
export const FLEX_API_PREFIX = "/api/v1";

export const createRequestSchema = z.object({
  /** Client-chosen id (idempotent retry); generated when absent. */
  id: zId.optional(),
  buyerId: zId,
  marketId: zId.optional(),
  gridNodeId: zId.optional(),
  direction: zDirection,
  periodFrom: zTime,
  periodTo: zTime,
  quantityW: zRequestWatts,
  minQuantityW: zRequestWatts.optional(),
  maxUnitPrice: zPrice,
  expiresAt: zTime.optional(),
});
export type CreateRequest = z.infer<typeof createRequestSchema>;

export const reviseRequestSchema = z
  .object({
    quantityW: zRequestWatts.optional(),
    minQuantityW: zRequestWatts.optional(),
    maxUnitPrice: zPrice.optional(),
    periodFrom: zTime.optional(),
    periodTo: zTime.optional(),
    expiresAt: zTime.optional(),
    /** Optimistic concurrency: refused with 409 when the request has moved on. */
    revision: z.number().int().min(1).optional(),
  })
  .refine((r) => Object.keys(r).some((k) => k !== "revision"), "nothing to revise");
export type ReviseRequest = z.infer<typeof reviseRequestSchema>;

export const requestWithRevisionsSchema = requestSchema.extend({
  revisions: z.array(requestSchema.pick({ revision: true, quantityW: true, minQuantityW: true, maxUnitPrice: true, periodFrom: true, periodTo: true, expiresAt: true, status: true, updatedAt: true })),
});

export const activationSignalInputSchema = z.object({
  tradeId: z.string().min(1).max(200),
  /** The activation level asked of the whole trade, 0…trade quantity. 0 ends it. */
  setpointW: z.number().int().min(0),
  /** Until when the level holds (default: the end of the trade's period). */
  until: zTime.optional(),
});
export type ActivationSignalInput = z.infer<typeof activationSignalInputSchema>;

export const registerDeviceSchema = z.object({
  id: zDeviceId,
  kind: zDeviceKind,
  gridNodeId: zId,
  pMinW: zPowerW,
  pMaxW: zPowerW,
  rampWps: z.number().int().positive(),
  bridgedFrom: z.string().max(200).optional(),
});
export const registerDevicesSchema = z.object({ devices: z.array(registerDeviceSchema).min(1).max(2000) });
export type RegisterDevice = z.infer<typeof registerDeviceSchema>;

/** The answer to a registration: the one time a device's password is shown. */
export const registeredDeviceSchema = z.object({
  device: deviceSchema,
  username: z.string(),
  password: z.string(),
  topicRoot: z.string(),
  nodePublicKey: z.string(),
});
export type RegisteredDevice = z.infer<typeof registeredDeviceSchema>;

export const nodeInfoSchema = z.object({
  nodeId: zId,
  role: zNodeRole,
  marketId: zId,
  /** Ed25519 public key (SPKI DER, base64) that signs this node's activations and links. */
  publicKey: z.string(),
  gridNodes: z.array(zId),
  topicRoot: z.string(),
  periodMs: z.number(),
  bundleIntervalMs: z.number(),
  stepMs: z.number(),
  peers: z.array(z.object({ nodeId: zId, connected: z.boolean() })),
});
export type NodeInfo = z.infer<typeof nodeInfoSchema>;

export const depthSchema = z.object({ gridNodeId: zId, direction: zDirection, windowStart: zTime, levels: z.array(meritStepSchema), offerCount: z.number().int(), updatedAt: zTime });
export type Depth = z.infer<typeof depthSchema>;

export const nodeHealthSchema = z.object({
  nodeId: zId,
  role: zNodeRole,
  at: zTime,
  devicesRegistered: z.number().int(),
  devicesOnline: z.number().int(),
  offersOpen: z.number().int(),
  requestsOpen: z.number().int(),
  lastRoundMs: z.number().nullable(),
  peers: z.array(z.object({ nodeId: zId, connected: z.boolean() })),
  rejected: z.record(z.string(), z.number()),
});
export type NodeHealth = z.infer<typeof nodeHealthSchema>;

export const listSchemas = {
  requests: z.object({ requests: z.array(requestSchema) }),
  bundles: z.object({ bundles: z.array(bundleSchema) }),
  trades: z.object({ trades: z.array(tradeSchema) }),
  activations: z.object({ signals: z.array(activationSignalSchema), steps: z.array(activationStepSchema) }),
  settlements: z.object({ settlements: z.array(settlementSchema) }),
  devices: z.object({ devices: z.array(deviceSchema.extend({ online: z.boolean(), powerW: zPowerW.nullable(), setpointW: zPowerW.nullable() })) }),
  orderbook: z.object({ depth: z.array(depthSchema) }),
};

// ---------- node-to-node link: one hop, signed by the sender ----------

export const peerActivateSchema = z.object({
  type: z.literal("activate"),
  tradeId: z.string(),
  stepTs: zTime,
  validUntil: zTime,
  devices: z.array(z.object({ deviceId: zId, activationW: z.number().min(0), direction: zDirection, baselineW: zPowerW })).max(100_000),
});
export const peerAckSchema = z.object({
  type: z.literal("acks"),
  acks: z
    .array(
      z.object({
        tradeId: z.string(),
        deviceId: zId,
        stepTs: zTime,
        status: z.enum(["ok", "rejected", "late"]),
        latencyMs: z.number().nullable(),
        powerW: zPowerW.nullable(),
      }),
    )
    .max(100_000),
});
/** Offer-book replication: a node's own offers (upserts) and withdrawals. */
export const peerOffersSchema = z.object({ type: z.literal("offers"), upserts: z.array(z.unknown()).max(100_000), removed: z.array(z.string()).max(100_000), full: z.boolean().optional() });
/** A DSO's allocations, so the TSO clears only what is left (DSO first). */
export const peerAllocationsSchema = z.object({ type: z.literal("allocations"), windowStart: zTime, sealed: z.boolean(), allocations: z.array(z.tuple([z.string(), z.number()])).max(1_000_000) });
export const peerHelloSchema = z.object({ type: z.literal("hello"), epoch: z.string(), role: zNodeRole });
export const peerMessageSchema = z.discriminatedUnion("type", [peerActivateSchema, peerAckSchema, peerOffersSchema, peerAllocationsSchema, peerHelloSchema]);
export type PeerMessage = z.infer<typeof peerMessageSchema>;

/** The envelope on the wire (HTTP POST /peer/v1/messages or a Redis channel). */
export const peerEnvelopeSchema = z.object({ from: zId, to: zId, sentAt: zTime, messages: z.array(peerMessageSchema).min(1).max(1000), signature: z.string().min(1).max(200) });
export type PeerEnvelope = z.infer<typeof peerEnvelopeSchema>;

// ---------- live feed (GET /api/v1/events, SSE with Last-Event-ID) ----------

export const FEED_EVENT_TYPES = ["snapshot", "resync", "health", "depth", "bundle", "request", "trade", "activation", "settlement", "rejected"] as const;
export type FeedEventType = (typeof FEED_EVENT_TYPES)[number];

export const feedSnapshotSchema = z.object({
  health: nodeHealthSchema,
  depth: z.array(depthSchema),
  bundles: z.array(bundleSchema),
  requests: z.array(requestSchema),
  trades: z.array(tradeSchema),
  steps: z.array(activationStepSchema),
  settlements: z.array(settlementSchema),
});
export type FeedSnapshot = z.infer<typeof feedSnapshotSchema>;

export const feedEventSchemas = {
  snapshot: feedSnapshotSchema,
  resync: z.object({ epoch: z.string(), seq: z.number() }),
  health: nodeHealthSchema,
  depth: depthSchema,
  bundle: bundleSchema,
  request: requestSchema,
  trade: tradeSchema,
  activation: activationStepSchema,
  settlement: settlementSchema,
  rejected: z.object({ kind: z.string(), reason: z.string(), deviceId: z.string().optional(), participantId: z.string().optional(), at: zTime }),
} satisfies Record<FeedEventType, z.ZodType>;
