import { offerSchema, type ActivationSignal, type ActivationStep, type Bundle, type Device, type Settlement } from "../../contracts/flex/entities";
import type { ActivationRouter } from "./activation";
import type { OrderBook } from "./book";
import type { DeviceRec, RequestRec, TradeRec } from "./node-types";
import type { StoredState } from "./store/store";

/**
 * A node's state back from its store at start: devices (offline until they say otherwise),
 * its own offers in their original time priority, requests, trades, bundles (sealed and
 * collecting), steps, signals and settlements. Returns the next window to bundle.
 */
export const restoreFlexState = (
  restored: StoredState,
  into: {
    nodeId: string;
    periodMs: number;
    gateMs: number;
    devices: Map<string, DeviceRec>;
    book: OrderBook;
    requests: Map<string, RequestRec>;
    trades: Map<string, TradeRec>;
    bundles: Map<string, Bundle & { offerIds?: string[] }>;
    tradeSteps: Map<string, Map<number, ActivationStep>>;
    activation: ActivationRouter;
    signals: Map<string, ActivationSignal>;
    signalHistory: Map<string, ActivationSignal>;
    settlements: Map<string, Settlement>;
  },
) => {
  const { nodeId, periodMs, gateMs, devices, book, requests, trades, bundles, tradeSteps, activation, signals, signalHistory, settlements } = into;
  for (const [id, v] of restored.devices) {
    const { device, passwordHash } = v as { device: Device; passwordHash: string };
    devices.set(id, { device, passwordHash, online: false, powerW: null, setpointW: null, lastSeen: 0 });
  }
  for (const v of restored.offers.values()) {
    const o = offerSchema.safeParse(v);
    if (o.success && o.data.nodeId === nodeId) book.upsert(o.data);
  }
  for (const [id, v] of restored.requests) requests.set(id, v as RequestRec);
  for (const [id, v] of restored.trades) trades.set(id, v as TradeRec);
  for (const [id, v] of restored.bundles) if (!id.startsWith("collecting:")) bundles.set(id, v as Bundle);
  for (const [key, v] of restored.bundles) if (key.startsWith("collecting:")) for (const b of v as Bundle[]) bundles.set(b.id, b);
  for (const v of restored.steps.values()) {
    const s = v as ActivationStep;
    let m = tradeSteps.get(s.tradeId);
    if (!m) tradeSteps.set(s.tradeId, (m = new Map()));
    m.set(s.stepTs, s);
    activation.restoreStep(s);
  }
  for (const v of restored.signals.values()) {
    const s = v as ActivationSignal;
    signalHistory.set(s.id, s);
    const current = signals.get(s.tradeId);
    if (!current || current.receivedAt < s.receivedAt) signals.set(s.tradeId, s);
  }
  for (const [id, v] of restored.settlements) settlements.set(id, v as Settlement);
  const now0 = Date.now();
  // Sorting restored offers by receipt time restores time priority.
  const restoredOffers = [...book.offers.values()].sort((a, b) => a.receivedAt - b.receivedAt);
  for (const o of restoredOffers) book.remove(o.id);
  for (const o of restoredOffers) book.upsert(o);
  return Math.max(Number(restored.meta.get("nextWindow") ?? 0), Math.floor((now0 + gateMs) / periodMs) + 1);
};
