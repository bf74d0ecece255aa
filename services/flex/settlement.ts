import type { ActivationStep, Allocation, Settlement, Trade } from "../../contracts/flex/entities";

/**
 * Settlement of one trade for its period (UFTP FlexSettlement): each activation step holds
 * until the next one (or the period's end), so the period's ordered and delivered power are
 * time-weighted averages of the steps. The buyer pays the clearing price for what was
 * delivered up to what was ordered; a deficiency costs `penaltyFactor` times that price.
 */
export type SettleInput = {
  trade: Trade;
  allocations: Allocation[];
  steps: ActivationStep[];
  penaltyFactor: number;
  now: number;
};

export const settleTrade = ({ trade, allocations, steps, penaltyFactor, now }: SettleInput): Settlement => {
  const periodMs = trade.periodEnd - trade.period;
  const inPeriod = steps.filter((s) => s.stepTs >= trade.period && s.stepTs < trade.periodEnd).sort((a, b) => a.stepTs - b.stepTs);
  let orderedWms = 0;
  let deliveredWms = 0;
  for (let i = 0; i < inPeriod.length; i++) {
    const s = inPeriod[i];
    const until = i + 1 < inPeriod.length ? inPeriod[i + 1].stepTs : trade.periodEnd;
    const dt = Math.max(0, until - s.stepTs);
    orderedWms += s.requestedW * dt;
    // Over-delivery is not paid: a step counts at most what it asked for.
    deliveredWms += Math.max(0, Math.min(s.deliveredW ?? 0, s.requestedW)) * dt;
  }
  const orderedW = periodMs > 0 ? orderedWms / periodMs : 0;
  const deliveredW = periodMs > 0 ? deliveredWms / periodMs : 0;
  const deficiencyW = Math.max(0, orderedW - deliveredW);
  const hours = periodMs / 3_600_000;
  const toMWh = (w: number) => (w * hours) / 1e6;
  const baselineW = allocations.reduce((sum, a) => sum + a.baselineW, 0);
  const sign = trade.direction === "up" ? -1 : 1;
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const payment = toMWh(deliveredW) * trade.clearingPrice;
  const penalty = toMWh(deficiencyW) * trade.clearingPrice * penaltyFactor;
  return {
    id: `s:${trade.id}`,
    tradeId: trade.id,
    requestId: trade.requestId,
    buyerId: trade.buyerId,
    period: trade.period,
    periodEnd: trade.periodEnd,
    baselineW: Math.round(baselineW),
    orderedW: Math.round(orderedW),
    actualW: Math.round(baselineW + sign * deliveredW),
    deliveredW: Math.round(deliveredW),
    deficiencyW: Math.round(deficiencyW),
    price: trade.clearingPrice,
    payment: round2(payment),
    penalty: round2(penalty),
    net: round2(payment - penalty),
    settledAt: now,
  };
};
