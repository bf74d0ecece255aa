import type { FlexOffer } from "../../contracts/flex/entities";

/**
 * The order book: every open offer of the market this node sees (its own devices' and,
 * replicated, its peers'), kept in time-priority order. A Map iterates in insertion order,
 * so a revision that loses priority (a new price, more quantity) is deleted and re-inserted
 * at the back; one that keeps it (less quantity, a later expiry) is updated in place.
 */
export const createOrderBook = () => {
  const offers = new Map<string, FlexOffer>();
  const byDevice = new Map<string, Set<string>>();
  const byNode = new Map<string, Set<string>>();

  const index = (map: Map<string, Set<string>>, key: string, id: string, add: boolean) => {
    let set = map.get(key);
    if (add) {
      if (!set) map.set(key, (set = new Set()));
      set.add(id);
    } else if (set) {
      set.delete(id);
      if (set.size === 0) map.delete(key);
    }
  };

  const remove = (id: string) => {
    const o = offers.get(id);
    if (!o) return undefined;
    offers.delete(id);
    index(byDevice, o.deviceId, id, false);
    index(byNode, o.nodeId, id, false);
    return o;
  };

  const upsert = (offer: FlexOffer) => {
    const prev = offers.get(offer.id);
    const keepsPriority = prev && prev.unitPrice === offer.unitPrice && offer.quantityW <= prev.quantityW && prev.direction === offer.direction;
    if (prev && !keepsPriority) offers.delete(offer.id);
    offers.set(offer.id, offer);
    index(byDevice, offer.deviceId, offer.id, true);
    index(byNode, offer.nodeId, offer.id, true);
    return prev;
  };

  return {
    offers,
    get: (id: string) => offers.get(id),
    upsert,
    remove,
    countOfDevice: (deviceId: string) => byDevice.get(deviceId)?.size ?? 0,
    idsOfNode: (nodeId: string) => [...(byNode.get(nodeId) ?? [])],
    size: () => offers.size,
    /** Drops offers whose period is over or that expired; returns them. */
    sweep: (now: number) => {
      const gone: FlexOffer[] = [];
      for (const o of offers.values()) if (o.periodTo <= now || o.expiresAt <= now) gone.push(o);
      for (const o of gone) remove(o.id);
      return gone;
    },
  };
};
export type OrderBook = ReturnType<typeof createOrderBook>;
