import type { Depth } from "../../contracts/flex/api";
import type { Allocation, Bundle, Direction, FlexOffer, FlexRequest, MeritStep } from "../../contracts/flex/entities";

/**
 * One bundling round as a pure function: the open offers that cover a window, grouped per
 * grid node and direction into a merit order (price, then time priority), and the open
 * requests matched against it (highest price first, then earliest), with partial
 * acceptance. The node calls it every 5 s for the coming window and once more to seal it.
 *
 * Speed matters (1M offers inside the 5 s cadence): each bucket sorts one Float64Array of
 * keys `priceCents·2³¹ + index`. Offers arrive in time-priority order (the book re-inserts
 * an offer when a revision loses its priority), so the index breaks price ties by time.
 */
export type RoundInput = {
  nodeId: string;
  marketId: string;
  /** Offers in time-priority order (a Map's insertion order). */
  offers: Iterable<FlexOffer>;
  /** Requests this node clears. */
  requests: FlexRequest[];
  windowStart: number;
  windowEnd: number;
  now: number;
  round: number;
  /** Watts of an offer already allocated by another node for this window (DSO first). */
  takenElsewhere?: ReadonlyMap<string, number>;
  /** Grid nodes to publish bundles for (null: all). */
  bundleScope?: ReadonlySet<string> | null;
  maxMeritSteps?: number;
};

export type RequestAllocation = { requestId: string; bucket: string; gridNodeId: string; direction: Direction; allocations: Allocation[] };

export type RoundResult = {
  bundles: (Bundle & { offerIds: string[] })[];
  depth: Depth[];
  /** Per request and bucket: which offers cover it (one trade each at sealing). */
  matches: RequestAllocation[];
  /** offerId → watts allocated by this node in this round. */
  allocated: Map<string, number>;
  stats: { eligibleOffers: number; buckets: number; matchedRequests: number; ms: number };
};

type Bucket = {
  key: string;
  gridNodeId: string;
  direction: Direction;
  offers: FlexOffer[];
  /** Price (cents) and quantity of offers[i], so sorting and sums never touch the objects. */
  cents: number[];
  quantity: number[];
  /** Sorted keys → offers[key % 2³¹]. */
  keys: Float64Array;
  remaining: Float64Array;
  /** Every sorted position before this is fully allocated. */
  cursor: number;
  availableW: number;
};

const INDEX_SPAN = 2 ** 31;
const bucketKey = (gridNodeId: string, direction: Direction) => `${gridNodeId}|${direction}`;
const priceOfKey = (key: number) => Math.floor(key / INDEX_SPAN) / 100;

export const offerCoversWindow = (o: Pick<FlexOffer, "periodFrom" | "periodTo">, windowStart: number, windowEnd: number) => o.periodFrom <= windowStart && o.periodTo >= windowEnd;

/**
 * The merit curve of sorted (price, quantity) pairs: equal prices merged; when there are
 * more than `maxSteps` prices, steps of about total/maxSteps watts each (a merged step keeps
 * its highest price). Two passes over numbers and no object per offer: it runs on 1M offers
 * every round.
 */
const curveOf = (n: number, priceAt: (j: number) => number, quantityAt: (j: number) => number, maxSteps: number): MeritStep[] => {
  let distinct = 0;
  let total = 0;
  let lastPrice = Number.NaN;
  for (let j = 0; j < n; j++) {
    const q = quantityAt(j);
    if (q <= 0) continue;
    total += q;
    const p = priceAt(j);
    if (p !== lastPrice) distinct++;
    lastPrice = p;
  }
  const steps: MeritStep[] = [];
  const chunk = distinct > maxSteps ? total / maxSteps : 0;
  let cumulative = 0;
  let stepQ = 0;
  let stepPrice = Number.NaN;
  for (let j = 0; j < n; j++) {
    const q = quantityAt(j);
    if (q <= 0) continue;
    const p = priceAt(j);
    // A new step at every new price, or (compressed) once a chunk is full.
    if (stepQ > 0 && p !== stepPrice && (chunk === 0 || cumulative >= chunk * (steps.length + 1))) {
      steps.push({ unitPrice: stepPrice, quantityW: stepQ, cumulativeW: cumulative });
      stepQ = 0;
    }
    stepQ += q;
    cumulative += q;
    stepPrice = p;
  }
  if (stepQ > 0) steps.push({ unitPrice: stepPrice, quantityW: stepQ, cumulativeW: cumulative });
  return steps;
};

export const meritCurve = (prices: ArrayLike<number>, quantities: ArrayLike<number>, maxSteps = 100) =>
  curveOf(
    prices.length,
    (j) => prices[j],
    (j) => quantities[j],
    maxSteps,
  );

const compareRequests = (a: FlexRequest, b: FlexRequest) => b.maxUnitPrice - a.maxUnitPrice || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1);

export const runRound = (input: RoundInput): RoundResult => {
  const started = performance.now();
  const { windowStart, windowEnd, now, takenElsewhere } = input;
  const buckets = new Map<string, Bucket>();
  // Per grid node: [up, down], so no key string is built per offer.
  const byGridNode = new Map<string, [Bucket | undefined, Bucket | undefined]>();
  let eligibleOffers = 0;
  for (const o of input.offers) {
    if (o.status !== "active" || o.expiresAt <= now || o.periodFrom > windowStart || o.periodTo < windowEnd) continue;
    let pair = byGridNode.get(o.gridNodeId);
    if (!pair) byGridNode.set(o.gridNodeId, (pair = [undefined, undefined]));
    const side = o.direction === "up" ? 0 : 1;
    let b = pair[side];
    if (!b) {
      const key = bucketKey(o.gridNodeId, o.direction);
      b = { key, gridNodeId: o.gridNodeId, direction: o.direction, offers: [], cents: [], quantity: [], keys: new Float64Array(0), remaining: new Float64Array(0), cursor: 0, availableW: 0 };
      pair[side] = b;
      buckets.set(key, b);
    }
    b.offers.push(o);
    b.cents.push(Math.round(o.unitPrice * 100));
    b.quantity.push(takenElsewhere && takenElsewhere.size > 0 ? Math.max(0, o.quantityW - (takenElsewhere.get(o.id) ?? 0)) : o.quantityW);
    eligibleOffers++;
  }

  for (const b of buckets.values()) {
    const n = b.offers.length;
    b.keys = new Float64Array(n);
    for (let i = 0; i < n; i++) b.keys[i] = b.cents[i] * INDEX_SPAN + i;
    b.keys.sort();
    b.remaining = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const left = b.quantity[b.keys[j] % INDEX_SPAN];
      b.remaining[j] = left;
      b.availableW += left;
    }
  }

  // Merit curves (the order book's depth) before matching consumes anything.
  const depth: Depth[] = [];
  const curves = new Map<string, MeritStep[]>();
  for (const b of buckets.values()) {
    const levels = curveOf(
      b.keys.length,
      (j) => priceOfKey(b.keys[j]),
      (j) => b.remaining[j],
      input.maxMeritSteps ?? 100,
    );
    curves.set(b.key, levels);
    depth.push({ gridNodeId: b.gridNodeId, direction: b.direction, windowStart, levels, offerCount: b.offers.length, updatedAt: now });
  }

  const matches: RequestAllocation[] = [];
  const allocated = new Map<string, number>();
  const requests = input.requests
    .filter((r) => r.status === "active" && r.expiresAt > now && offerCoversWindow(r, windowStart, windowEnd))
    .sort(compareRequests);
  let matchedRequests = 0;
  for (const r of requests) {
    const scope = r.gridNodeId ? [buckets.get(bucketKey(r.gridNodeId, r.direction))].filter((b): b is Bucket => !!b) : [...buckets.values()].filter((b) => b.direction === r.direction);
    if (scope.length === 0) continue;
    const pointers = scope.map((b) => b.cursor);
    const taken: { b: number; j: number; w: number }[] = [];
    let need = r.quantityW;
    while (need > 0) {
      // The cheapest head among the request's buckets (k is small: grid nodes of one area).
      let best = -1;
      for (let s = 0; s < scope.length; s++) {
        const b = scope[s];
        while (pointers[s] < b.keys.length && b.remaining[pointers[s]] <= 0) {
          if (pointers[s] === b.cursor) b.cursor++;
          pointers[s]++;
        }
        if (pointers[s] >= b.keys.length) continue;
        if (best === -1 || b.keys[pointers[s]] < scope[best].keys[pointers[best]]) best = s;
      }
      if (best === -1) break;
      const b = scope[best];
      const j = pointers[best];
      if (priceOfKey(b.keys[j]) > r.maxUnitPrice) break;
      const o = b.offers[b.keys[j] % INDEX_SPAN];
      const take = Math.min(b.remaining[j], need);
      // Partial acceptance never goes below what the offer allows to be taken at once.
      if (take >= Math.max(1, Math.min(o.minAcceptanceW, b.remaining[j]))) {
        b.remaining[j] -= take;
        need -= take;
        taken.push({ b: best, j, w: take });
      }
      pointers[best]++;
    }
    const total = r.quantityW - need;
    if (total <= 0 || total < r.minQuantityW) {
      for (const t of taken) scope[t.b].remaining[t.j] += t.w;
      continue;
    }
    matchedRequests++;
    const perBucket = new Map<Bucket, Allocation[]>();
    for (const t of taken) {
      const bucket = scope[t.b];
      const o = bucket.offers[bucket.keys[t.j] % INDEX_SPAN];
      allocated.set(o.id, (allocated.get(o.id) ?? 0) + t.w);
      let list = perBucket.get(bucket);
      if (!list) perBucket.set(bucket, (list = []));
      list.push({ offerId: o.id, deviceId: o.deviceId, nodeId: o.nodeId, quantityW: t.w, unitPrice: o.unitPrice, baselineW: o.baselineW });
    }
    for (const [bucket, allocations] of perBucket) matches.push({ requestId: r.id, bucket: bucket.key, gridNodeId: bucket.gridNodeId, direction: bucket.direction, allocations });
  }

  const bundles: RoundResult["bundles"] = [];
  for (const b of buckets.values()) {
    const mine = matches.filter((m) => m.bucket === b.key);
    if (input.bundleScope && !input.bundleScope.has(b.gridNodeId) && mine.length === 0) continue;
    const offerIds: string[] = [];
    let totalW = 0;
    const allocations = mine.map((m) => {
      let w = 0;
      let price = 0;
      for (const a of m.allocations) {
        offerIds.push(a.offerId);
        w += a.quantityW;
        price = Math.max(price, a.unitPrice);
      }
      totalW += w;
      return { requestId: m.requestId, quantityW: w, clearingPrice: price };
    });
    bundles.push({
      id: `${input.nodeId}:${windowStart}:${b.gridNodeId}:${b.direction}`,
      nodeId: input.nodeId,
      marketId: input.marketId,
      gridNodeId: b.gridNodeId,
      direction: b.direction,
      windowStart,
      windowEnd,
      offerIds: [...new Set(offerIds)],
      offerCount: b.offers.length,
      totalW,
      availableW: b.availableW,
      meritOrder: curves.get(b.key) ?? [],
      allocations,
      status: "collecting",
      round: input.round,
      updatedAt: now,
    });
  }
  return { bundles, depth, matches, allocated, stats: { eligibleOffers, buckets: buckets.size, matchedRequests, ms: performance.now() - started } };
};
