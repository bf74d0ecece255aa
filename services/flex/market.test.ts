import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../contracts/flex/canonical";
import type { FlexOffer, FlexRequest, Trade } from "../../contracts/flex/entities";
import { parseDeviceTopic } from "../../contracts/flex/mqtt";
import { splitLevel } from "./activation";
import { deviceIdentity, mayPublish, maySubscribe, topicMatches } from "./broker-acl";
import { createOrderBook } from "./book";
import { meritCurve, runRound } from "./bundler";
import { settleTrade } from "./settlement";
import { createSigner, generateNodeKeys, importPublicKey, verifyCanonical } from "./signing";

const W = { windowStart: 600_000, windowEnd: 1_200_000 };
let seq = 0;
const offer = (o: Partial<FlexOffer>): FlexOffer => ({
  id: `o${++seq}`,
  deviceId: `d${seq}`,
  nodeId: "n",
  marketId: "afrr",
  gridNodeId: "g1",
  direction: "up",
  periodFrom: W.windowStart,
  periodTo: W.windowEnd,
  quantityW: 1000,
  unitPrice: 100,
  minAcceptanceW: 0,
  baselineW: 0,
  expiresAt: W.windowEnd,
  revision: 1,
  status: "active",
  receivedAt: seq,
  ...o,
});
const request = (r: Partial<FlexRequest>): FlexRequest => ({
  id: `r${++seq}`,
  buyerId: "b",
  nodeId: "n",
  marketId: "afrr",
  direction: "up",
  periodFrom: W.windowStart,
  periodTo: W.windowEnd,
  quantityW: 1000,
  minQuantityW: 0,
  maxUnitPrice: 500,
  expiresAt: W.windowEnd,
  revision: 1,
  status: "active",
  receivedAt: seq,
  updatedAt: seq,
  ...r,
});
const round = (offers: FlexOffer[], requests: FlexRequest[], extra = {}) => runRound({ nodeId: "n", marketId: "afrr", offers, requests, ...W, now: 0, round: 1, ...extra });

describe("bundler", () => {
  it("fills a request in merit order, price first and time second", () => {
    const late = offer({ unitPrice: 50, id: "late" });
    const early = offer({ unitPrice: 50, id: "early" });
    const book = createOrderBook();
    // Insertion order is time priority; `early` was received first.
    book.upsert(early);
    book.upsert(late);
    book.upsert(offer({ unitPrice: 20, id: "cheap", quantityW: 500 }));
    const r = round([...book.offers.values()], [request({ quantityW: 1200 })]);
    expect(r.matches[0].allocations.map((a) => [a.offerId, a.quantityW])).toEqual([
      ["cheap", 500],
      ["early", 700],
    ]);
    expect(r.bundles[0].totalW).toBe(1200);
    expect(r.bundles[0].allocations[0].clearingPrice).toBe(50);
    expect(r.depth[0].levels).toEqual([
      { unitPrice: 20, quantityW: 500, cumulativeW: 500 },
      { unitPrice: 50, quantityW: 2000, cumulativeW: 2500 },
    ]);
  });

  it("loses time priority on a price revision, keeps it on a smaller quantity", () => {
    const book = createOrderBook();
    const a = offer({ id: "a", unitPrice: 50 });
    const b = offer({ id: "b", unitPrice: 50 });
    book.upsert(a);
    book.upsert(b);
    book.upsert({ ...a, quantityW: 900, revision: 2 });
    expect([...book.offers.keys()]).toEqual(["a", "b"]);
    book.upsert({ ...a, unitPrice: 40, revision: 3 });
    book.upsert({ ...a, unitPrice: 50, revision: 4 });
    expect([...book.offers.keys()]).toEqual(["b", "a"]);
  });

  it("serves the highest-priced request first, respects price caps, minimum acceptance and minimum quantity", () => {
    const offers = [offer({ id: "x", unitPrice: 10, quantityW: 1000, minAcceptanceW: 800 }), offer({ id: "y", unitPrice: 300, quantityW: 1000 })];
    const cheap = request({ id: "cheap", quantityW: 500, maxUnitPrice: 100 });
    const rich = request({ id: "rich", quantityW: 300, maxUnitPrice: 1000 });
    const r = round(offers, [cheap, rich]);
    // `rich` goes first; x cannot give 300 (its minimum is 800), so y does; `cheap` wants 500, below x's minimum.
    expect(r.matches.find((m) => m.requestId === "rich")!.allocations.map((a) => a.offerId)).toEqual(["y"]);
    expect(r.matches.find((m) => m.requestId === "cheap")).toBeUndefined();
    const all = round(offers, [request({ id: "big", quantityW: 5000, minQuantityW: 3000, maxUnitPrice: 1000 })]);
    expect(all.matches).toEqual([]);
  });

  it("keeps grid-node requests to their node, lets system-wide ones take every node, and leaves what a DSO took", () => {
    const offers = [offer({ id: "g1", gridNodeId: "g1", unitPrice: 10 }), offer({ id: "g2", gridNodeId: "g2", unitPrice: 20 })];
    const local = round(offers, [request({ gridNodeId: "g2", quantityW: 2000 })]);
    expect(local.matches[0].allocations.map((a) => a.offerId)).toEqual(["g2"]);
    const wide = round(offers, [request({ quantityW: 2000 })], { takenElsewhere: new Map([["g1", 400]]) });
    expect(wide.matches.flatMap((m) => m.allocations.map((a) => [a.offerId, a.quantityW]))).toEqual([
      ["g1", 600],
      ["g2", 1000],
    ]);
  });

  it("skips offers outside the window, expired or withdrawn", () => {
    const r = round([offer({ periodFrom: W.windowEnd, periodTo: W.windowEnd * 2 }), offer({ status: "cancelled" }), offer({ expiresAt: 0 })], [request({})]);
    expect(r.stats.eligibleOffers).toBe(0);
  });

  it("compresses a long merit curve and keeps its total", () => {
    const prices = Array.from({ length: 1000 }, (_, i) => i);
    const curve = meritCurve(prices, prices.map(() => 10), 50);
    expect(curve.length).toBeLessThanOrEqual(51);
    expect(curve.at(-1)!.cumulativeW).toBe(10_000);
  });
});

describe("activation split and settlement", () => {
  it("activates the cheapest devices first", () => {
    const allocations = [
      { offerId: "a", deviceId: "A", nodeId: "n", quantityW: 1000, unitPrice: 90, baselineW: 0 },
      { offerId: "b", deviceId: "B", nodeId: "n", quantityW: 1000, unitPrice: 10, baselineW: 0 },
    ];
    const split = splitLevel(allocations, 1500);
    expect(split.get("B")!.w).toBe(1000);
    expect(split.get("A")!.w).toBe(500);
  });

  it("settles ordered vs delivered with a penalty for the deficiency", () => {
    const trade: Trade = { id: "t", nodeId: "n", requestId: "r", buyerId: "b", bundleId: "x", gridNodeId: "g", direction: "up", quantityW: 2_000_000, clearingPrice: 100, period: 0, periodEnd: 3_600_000, deviceCount: 1, status: "activating", awardedAt: 0 };
    const step = (stepTs: number, requestedW: number, deliveredW: number) => ({ tradeId: "t", stepTs, requestedW, deliveredW, devices: 1, acked: 1, late: 0, rejected: 0, maxLatencyMs: 1, closed: true });
    // Half the hour at 2 MW asked and 1.5 MW delivered, the other half nothing asked.
    const s = settleTrade({ trade, allocations: [{ offerId: "o", deviceId: "d", nodeId: "n", quantityW: 2_000_000, unitPrice: 100, baselineW: 3_000_000 }], steps: [step(0, 2_000_000, 1_500_000), step(1_800_000, 0, 0)], penaltyFactor: 2, now: 1 });
    expect(s.orderedW).toBe(1_000_000);
    expect(s.deliveredW).toBe(750_000);
    expect(s.deficiencyW).toBe(250_000);
    expect(s.payment).toBe(75);
    expect(s.penalty).toBe(50);
    expect(s.net).toBe(25);
    expect(s.actualW).toBe(2_250_000);
  });
});

describe("signatures, topics and ACLs", () => {
  it("signs canonical JSON: key order does not matter, any change does", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] })).toBe('{"a":[1,{"d":2}],"b":1}');
    const keys = generateNodeKeys();
    const signer = createSigner(keys);
    const body = { seq: 1, setpointW: -500, validUntil: 99 };
    const signature = signer.sign(body);
    expect(verifyCanonical(importPublicKey(keys.publicKey), { validUntil: 99, setpointW: -500, seq: 1 }, signature)).toBe(true);
    expect(verifyCanonical(importPublicKey(keys.publicKey), { ...body, setpointW: 500 }, signature)).toBe(false);
    expect(verifyCanonical(importPublicKey(generateNodeKeys().publicKey), body, signature)).toBe(false);
    expect(verifyCanonical(importPublicKey(keys.publicKey), body, "not base64 !")).toBe(false);
  });

  it("parses device topics and confines a device to its own", () => {
    expect(parseDeviceTopic("flex/v1/devices/d-1/offers/result")).toEqual({ deviceId: "d-1", kind: "offerResult" });
    expect(parseDeviceTopic("flex/v1/devices/d+1/offers")).toBeUndefined();
    expect(parseDeviceTopic("flex/v1/devices/d1/other")).toBeUndefined();
    expect(topicMatches("a/+/c", "a/b/c")).toBe(true);
    expect(topicMatches("a/#", "a/b/c")).toBe(true);
    expect(topicMatches("a/+", "a/b/c")).toBe(false);
    const me = deviceIdentity("d1");
    expect(mayPublish(me, "flex/v1/devices/d1/offers")).toBe(true);
    expect(mayPublish(me, "flex/v1/devices/d2/offers")).toBe(false);
    expect(mayPublish(me, "flex/v1/devices/d1/activation")).toBe(false);
    expect(maySubscribe(me, "flex/v1/devices/d1/activation")).toBe(true);
    expect(maySubscribe(me, "flex/v1/devices/+/activation")).toBe(false);
    expect(maySubscribe(me, "flex/v1/#")).toBe(false);
  });
});
