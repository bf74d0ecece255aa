"use client";

import { Area, AreaChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { MeritStep } from "@/contracts/flex/entities";
import { formatPrice, formatW } from "./format";

/**
 * A merit curve (recharts): everything offered, cheapest first — price against the running
 * total. Each step holds its price from the previous total to its own, so the curve is read
 * as "this much power is available at up to this price". `markW` draws a line (what a
 * bundle covers for requests).
 */
export const MeritChart = ({ levels, markW, label, testId }: { levels: readonly MeritStep[]; markW?: number; label: string; testId?: string }) => {
  const data = levels.length ? [{ kw: 0, price: levels[0]!.unitPrice }, ...levels.map((l) => ({ kw: l.cumulativeW / 1000, price: l.unitPrice }))] : [];
  if (!data.length) return <div className="empty" data-testid={testId}>Nothing offered yet.</div>;
  return (
    <figure className="chart-box" aria-label={label} data-testid={testId} data-levels={levels.length} style={{ margin: 0 }}>
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={data} margin={{ top: 6, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eceef2" />
          <XAxis dataKey="kw" type="number" domain={[0, "dataMax"]} fontSize={11} tickFormatter={(v: number) => `${Math.round(v * 10) / 10} kW`} />
          <YAxis dataKey="price" fontSize={11} width={72} unit=" €" />
          <Tooltip labelFormatter={(v) => `up to ${formatW(Number(v) * 1000)}`} formatter={(v) => [formatPrice(Number(v)), "price"]} />
          <Area type="stepBefore" dataKey="price" stroke="#2563eb" fill="#dbeafe" isAnimationActive={false} />
          {markW ? <ReferenceLine x={markW / 1000} stroke="#16a34a" strokeDasharray="4 3" label={{ value: "covered", fontSize: 11, position: "insideTopRight" }} /> : null}
        </AreaChart>
      </ResponsiveContainer>
    </figure>
  );
};
