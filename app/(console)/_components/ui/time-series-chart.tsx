"use client";

import { useMemo, useState } from "react";
import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatDateTime } from "../format";
import { timeTicks } from "./time-range";

/** One point of a rollup series: the bucket's start and its statistics. */
export type SeriesPoint = { t: number; avg: number; min: number; max: number; count: number };
export type Series = { key: string; label: string; points: readonly SeriesPoint[] };

const COLORS = ["#2458d3", "#146c36", "#8a4b00", "#a1198b", "#0b7285", "#c92a2a", "#5f3dc4", "#2b8a3e", "#e67700", "#1864ab", "#862e9c", "#087f5b", "#d9480f", "#364fc7"];

const pad = (n: number) => String(n).padStart(2, "0");
/** Axis ticks: the time of day for short windows, the date for long ones. */
const tickFormat = (spanMs: number) => (ms: number) => {
  const d = new Date(ms);
  if (spanMs <= 2 * 86_400_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}${spanMs <= 10 * 86_400_000 ? ` ${pad(d.getHours())}h` : ""}`;
};

const toNumber = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : undefined);

type TimeSeriesChartProps = {
  series: readonly Series[];
  from: number;
  to: number;
  unit?: string;
  /** Shade min…max behind each average line (readable for a few series at a time). */
  band?: boolean;
  /** Dragging across the chart selects a window; called with its ends. */
  onZoom?: (from: number, to: number) => void;
  height?: number;
  label: string;
  testId?: string;
};

/**
 * A time-series chart (recharts) of rollup points: one line per series (the bucket average),
 * an optional min/max band, the range's full width on the x axis, and drag-to-zoom with a
 * highlighted selection (ReferenceArea). Points come already bucketed by the server to at
 * most the chart's width.
 */
export const TimeSeriesChart = ({ series, from, to, unit, band = true, onZoom, height = 260, label, testId = "ts-chart" }: TimeSeriesChartProps) => {
  const [drag, setDrag] = useState<{ a: number; b: number } | null>(null);
  const data = useMemo(() => {
    const rows = new Map<number, Record<string, number | [number, number]>>();
    for (const s of series)
      for (const p of s.points) {
        const row = rows.get(p.t) ?? { t: p.t };
        row[s.key] = p.avg;
        row[`${s.key}__band`] = [p.min, p.max];
        rows.set(p.t, row);
      }
    return [...rows.values()].sort((a, b) => (a.t as number) - (b.t as number));
  }, [series]);
  const format = useMemo(() => tickFormat(to - from), [from, to]);
  const ticks = useMemo(() => timeTicks(from, to), [from, to]);
  const points = series.reduce((n, s) => n + s.points.length, 0);

  return (
    <figure className="ts-chart" data-testid={testId} data-points={points} aria-label={label} style={{ height }}>
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart
          data={data}
          margin={{ top: 6, right: 16, bottom: 0, left: 0 }}
          onMouseDown={(state) => {
            const t = toNumber(state?.activeLabel);
            if (onZoom && t !== undefined) setDrag({ a: t, b: t });
          }}
          onMouseMove={(state) => {
            const t = toNumber(state?.activeLabel);
            if (drag && t !== undefined) setDrag({ ...drag, b: t });
          }}
          onMouseUp={() => {
            if (drag && drag.a !== drag.b) onZoom?.(Math.min(drag.a, drag.b), Math.max(drag.a, drag.b));
            setDrag(null);
          }}
          onMouseLeave={() => setDrag(null)}
          style={onZoom ? { cursor: "crosshair", userSelect: "none" } : undefined}
        >
          <CartesianGrid stroke="#eceef2" />
          <XAxis dataKey="t" type="number" domain={[from, to]} ticks={ticks} allowDataOverflow tickFormatter={format} fontSize={11} />
          <YAxis fontSize={11} width={64} unit={unit} domain={["auto", "auto"]} />
          <Tooltip
            labelFormatter={(v) => formatDateTime(Number(v))}
            formatter={(v, name) => {
              const text = Array.isArray(v) ? `${Number(v[0]).toFixed(3)} – ${Number(v[1]).toFixed(3)}` : typeof v === "number" ? v.toFixed(3) : String(v);
              return [`${text}${unit ? ` ${unit}` : ""}`, String(name)];
            }}
          />
          {series.length > 1 ? <Legend wrapperStyle={{ fontSize: 11 }} itemSorter={null} /> : null}
          {band
            ? series.map((s, i) => (
                <Area key={`${s.key}__band`} dataKey={`${s.key}__band`} name={`${s.label} min–max`} legendType="none" stroke="none" fill={COLORS[i % COLORS.length]} fillOpacity={0.15} isAnimationActive={false} connectNulls />
              ))
            : null}
          {series.map((s, i) => (
            <Line key={s.key} dataKey={s.key} name={s.label} stroke={COLORS[i % COLORS.length]} dot={false} strokeWidth={1.5} isAnimationActive={false} connectNulls />
          ))}
          {drag && drag.a !== drag.b ? <ReferenceArea x1={Math.min(drag.a, drag.b)} x2={Math.max(drag.a, drag.b)} strokeOpacity={0.3} fill="#2458d3" fillOpacity={0.12} /> : null}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
};
