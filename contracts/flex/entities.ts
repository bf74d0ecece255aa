import { z } from "zod";

/**
 * The flexibility market's entities (../shared/reference/flex.md: USEF/UFTP, UMEI, FIS),
 * shared by the node, the device simulator, the console's connector and the browser.
 * Power in watts (integers), prices in EUR/MWh, times in epoch milliseconds.
 */

/** Ids become MQTT topic levels and URL segments: no `/`, `+`, `#` or spaces. */
export const idPattern = /^[A-Za-z0-9._:-]{1,64}$/;
export const zId = z.string().regex(idPattern, "must be 1–64 letters, digits, '.', '_', ':' or '-'");
/** Device ids also form broker usernames (`flex-device-<id>`), where Mosquitto forbids `:`. */
export const deviceIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
export const zDeviceId = z.string().regex(deviceIdPattern, "must be 1–64 letters, digits, '.', '_' or '-'");

export const DIRECTIONS = ["up", "down"] as const;
export const zDirection = z.enum(DIRECTIONS);
export type Direction = z.infer<typeof zDirection>;

export const NODE_ROLES = ["TSO", "DSO"] as const;
export const zNodeRole = z.enum(NODE_ROLES);
export type NodeRole = z.infer<typeof zNodeRole>;

export const PARTICIPANT_ROLES = ["TSO", "DSO", "FSP"] as const;
export const zParticipantRole = z.enum(PARTICIPANT_ROLES);

export const DEVICE_KINDS = ["battery", "heat-pump", "ev-charger"] as const;
export const zDeviceKind = z.enum(DEVICE_KINDS);
export type DeviceKind = z.infer<typeof zDeviceKind>;

/** Market limits: anything outside is "absurd" and refused with a reason. */
export const LIMITS = {
  /** One device offers at most 50 MW (a large industrial unit); a request asks for at most 5 GW. */
  maxDeviceW: 50_000_000,
  maxRequestW: 5_000_000_000,
  /** EUR/MWh, the aFRR energy price cap. */
  minPrice: 0,
  maxPrice: 15_000,
  /** How far ahead an offer or a request may reach. */
  maxHorizonMs: 7 * 24 * 3600_000,
} as const;

const watts = (max: number) => z.number().int("whole watts").min(0, "must not be negative").max(max, `must be at most ${max} W`);
export const zDeviceWatts = watts(LIMITS.maxDeviceW);
export const zRequestWatts = watts(LIMITS.maxRequestW);
/** Signed power of a device (negative = feeding in), bounded like its capability. */
export const zPowerW = z.number().int("whole watts").min(-LIMITS.maxDeviceW).max(LIMITS.maxDeviceW);
export const zPrice = z.number().min(LIMITS.minPrice, `must be at least ${LIMITS.minPrice} EUR/MWh`).max(LIMITS.maxPrice, `must be at most ${LIMITS.maxPrice} EUR/MWh`);
export const zTime = z.number().int().min(0);

export const participantSchema = z.object({ id: zId, role: zParticipantRole, name: z.string().max(200), publicKey: z.string().optional() });
export type Participant = z.infer<typeof participantSchema>;

export const deviceSchema = z.object({
  id: zDeviceId,
  kind: zDeviceKind,
  ownerId: zId,
  nodeId: zId,
  gridNodeId: zId,
  pMinW: zPowerW,
  pMaxW: zPowerW,
  rampWps: z.number().int().positive().max(LIMITS.maxDeviceW),
  /** Set when the device's telemetry and offers come from a bridge (e.g. a CSMS station). */
  bridgedFrom: z.string().max(200).optional(),
  registeredAt: zTime,
});
export type Device = z.infer<typeof deviceSchema>;

export const marketSchema = z.object({
  id: zId,
  product: z.literal("aFRR"),
  ispDuration: z.string(),
  fullActivationSec: z.number().int().positive(),
  stepSec: z.number().positive(),
  /** The dynamic bundling period (10 minutes in the source design). */
  periodMs: z.number().int().positive(),
  bundleIntervalMs: z.number().int().positive(),
});
export type Market = z.infer<typeof marketSchema>;

export const REQUEST_STATUSES = ["active", "matched", "unmatched", "cancelled", "expired", "settled"] as const;
export const requestSchema = z.object({
  id: zId,
  buyerId: zId,
  nodeId: zId,
  marketId: zId,
  gridNodeId: zId.optional(),
  direction: zDirection,
  periodFrom: zTime,
  periodTo: zTime,
  quantityW: zRequestWatts,
  minQuantityW: zRequestWatts,
  maxUnitPrice: zPrice,
  expiresAt: zTime,
  revision: z.number().int().min(1),
  status: z.enum(REQUEST_STATUSES),
  receivedAt: zTime,
  updatedAt: zTime,
});
export type FlexRequest = z.infer<typeof requestSchema>;
export type RequestRevision = Pick<FlexRequest, "revision" | "quantityW" | "minQuantityW" | "maxUnitPrice" | "periodFrom" | "periodTo" | "expiresAt" | "status" | "updatedAt">;

export const OFFER_STATUSES = ["active", "cancelled", "expired", "revoked"] as const;
export const offerSchema = z.object({
  id: zId,
  deviceId: zId,
  nodeId: zId,
  marketId: zId,
  gridNodeId: zId,
  direction: zDirection,
  periodFrom: zTime,
  periodTo: zTime,
  quantityW: zDeviceWatts,
  unitPrice: zPrice,
  minAcceptanceW: zDeviceWatts,
  baselineW: zPowerW,
  expiresAt: zTime,
  revision: z.number().int().min(1),
  status: z.enum(OFFER_STATUSES),
  receivedAt: zTime,
});
export type FlexOffer = z.infer<typeof offerSchema>;

/** One step of a merit curve: everything offered at `unitPrice`, and the running total. */
export const meritStepSchema = z.object({ unitPrice: zPrice, quantityW: z.number(), cumulativeW: z.number() });
export type MeritStep = z.infer<typeof meritStepSchema>;

export const BUNDLE_STATUSES = ["collecting", "sealed", "matched", "unmatched", "activating", "settled"] as const;
export const bundleSchema = z.object({
  id: z.string(),
  nodeId: zId,
  marketId: zId,
  gridNodeId: zId,
  direction: zDirection,
  windowStart: zTime,
  windowEnd: zTime,
  /** Offers aggregated into the bundle (only shown to the console, never to traders). */
  offerIds: z.array(z.string()).optional(),
  offerCount: z.number().int(),
  /** What the bundle's offers cover for requests, and everything offered here. */
  totalW: z.number(),
  availableW: z.number(),
  /** The merit curve of every eligible offer (compressed to at most ~100 steps). */
  meritOrder: z.array(meritStepSchema),
  allocations: z.array(z.object({ requestId: zId, quantityW: z.number(), clearingPrice: zPrice })),
  status: z.enum(BUNDLE_STATUSES),
  round: z.number().int(),
  updatedAt: zTime,
});
export type Bundle = z.infer<typeof bundleSchema>;

/** What a trade owes each device (kept by the node; traders never see identities). */
export const allocationSchema = z.object({
  offerId: z.string(),
  deviceId: zId,
  nodeId: zId,
  quantityW: z.number(),
  unitPrice: zPrice,
  baselineW: zPowerW,
});
export type Allocation = z.infer<typeof allocationSchema>;

export const TRADE_STATUSES = ["awarded", "activating", "delivered", "settled"] as const;
export const tradeSchema = z.object({
  id: z.string(),
  nodeId: zId,
  requestId: zId,
  buyerId: zId,
  bundleId: z.string(),
  gridNodeId: zId,
  direction: zDirection,
  quantityW: z.number(),
  clearingPrice: zPrice,
  period: zTime,
  periodEnd: zTime,
  deviceCount: z.number().int(),
  status: z.enum(TRADE_STATUSES),
  awardedAt: zTime,
});
export type Trade = z.infer<typeof tradeSchema>;

/** One activation step of one trade: requested vs delivered, acks and late devices. */
export const activationStepSchema = z.object({
  tradeId: z.string(),
  stepTs: zTime,
  requestedW: z.number(),
  /** Measured at the next step (the power devices report when they take the next setpoint). */
  deliveredW: z.number().nullable(),
  devices: z.number().int(),
  acked: z.number().int(),
  late: z.number().int(),
  rejected: z.number().int(),
  /** Slowest ack of this step (signal or step start → device ack), ms. */
  maxLatencyMs: z.number().nullable(),
  closed: z.boolean(),
});
export type ActivationStep = z.infer<typeof activationStepSchema>;

/** The LFC's activation level for one trade, as acknowledged (202) by the node. */
export const activationSignalSchema = z.object({
  id: z.string(),
  tradeId: z.string(),
  buyerId: zId,
  setpointW: z.number().min(0),
  from: zTime,
  until: zTime,
  receivedAt: zTime,
});
export type ActivationSignal = z.infer<typeof activationSignalSchema>;

export const settlementSchema = z.object({
  id: z.string(),
  tradeId: z.string(),
  requestId: zId,
  buyerId: zId,
  period: zTime,
  periodEnd: zTime,
  baselineW: z.number(),
  orderedW: z.number(),
  actualW: z.number(),
  deliveredW: z.number(),
  deficiencyW: z.number(),
  /** EUR/MWh (the trade's clearing price). */
  price: z.number(),
  /** EUR. */
  payment: z.number(),
  penalty: z.number(),
  net: z.number(),
  settledAt: zTime,
});
export type Settlement = z.infer<typeof settlementSchema>;
