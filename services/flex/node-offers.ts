import type { Counter } from "prom-client";
import { LIMITS, type FlexOffer } from "../../contracts/flex/entities";
import { offerSchemaFor, type OfferResult } from "../../contracts/flex/mqtt";
import { createTokenBucket, type RateLimit } from "../csms/gateway/rate-limit";
import type { OrderBook } from "./book";
import type { Collection } from "./store/store";
import type { DeviceRec } from "./node-types";

/**
 * Offer intake on the MQTT device interface: a device's post, revision or cancel, throttled
 * per device, checked against the contract and the device's limits, into the book; every
 * message gets an `offers/result` (services/flex/README.md "Refusals").
 */
export type OfferIntakeContext = {
  nodeId: string;
  marketId: string;
  periodMs: number;
  offerRate: RateLimit;
  maxOffersPerDevice: number;
  book: OrderBook;
  offersIn: Record<"accepted" | "rejected" | "throttled" | "cancelled", ReturnType<Counter["labels"]>>;
  reject: (kind: string, reason: string, who?: { deviceId?: string; participantId?: string }) => void;
  sendOfferResult: (deviceId: string, result: Omit<OfferResult, "at">) => void;
  persist: (collection: Collection, key: string, value: unknown) => void;
  replicate: (offer: FlexOffer | null, id: string) => void;
};

export const createOfferIntake = ({ nodeId, marketId, periodMs, offerRate, maxOffersPerDevice, book, offersIn, reject, sendOfferResult, persist, replicate }: OfferIntakeContext) => {
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

  return handleOffer;
};
