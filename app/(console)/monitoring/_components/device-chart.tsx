"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { DataTable } from "../../_components/ui/data-table";
import { Field, Select } from "../../_components/ui/field";
import { errorMessage } from "../../_components/ui/messages";
import { parseTimeRange, refreshEveryMs, resolveTimeRange, timeRangeParams, zoomOut, zoomTo, type TimeRange } from "../../_components/ui/time-range";
import { TimeRangePicker } from "../../_components/ui/time-range-picker";
import { TimeSeriesChart } from "../../_components/ui/time-series-chart";
import { useUrlState } from "../../_components/ui/url-state";
import { useNow } from "../../_components/use-now";
import { commonUnit, formatValue, metricGroups, metricLabel, pickGroup } from "./metrics";

type Stat = { metric: string; min?: number; max?: number; avg?: number; last?: number };
const statColumn = createColumnHelper<Stat>();
const statColumns = (unit: string) => [
  statColumn.accessor("metric", { header: "Metric", meta: { className: "mono" } }),
  statColumn.accessor("min", { header: "Min", meta: { className: "num" }, cell: ({ getValue }) => formatValue(getValue(), unit) }),
  statColumn.accessor("avg", { header: "Average", meta: { className: "num" }, cell: ({ getValue }) => formatValue(getValue(), unit) }),
  statColumn.accessor("max", { header: "Max", meta: { className: "num" }, cell: ({ getValue }) => formatValue(getValue(), unit) }),
  statColumn.accessor("last", { header: "Last", meta: { className: "num" }, cell: ({ getValue }) => formatValue(getValue(), unit) }),
];

const URL_KEYS = ["metric", "range", "from", "to", "auto", "band"] as const;
const GRANULARITY_LABELS = { "1m": "1-minute rollups", "1h": "hourly rollups", "1d": "daily rollups" } as const;

/** The chart's pixel width, rounded so a resize by a few pixels does not re-query. */
const useWidth = () => {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(100, Math.round((entry?.contentRect.width ?? 800) / 50) * 50)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
};

/**
 * Charts of any metric of one device: a metric (or a pack's 14 cell voltages) picked from what
 * the device reports, a time range (relative or custom, in the URL), min/avg/max per point
 * from the server's rollups sized to the chart's width, auto-refresh for relative ranges,
 * and drag-to-zoom (with Zoom out / Reset for the keyboard).
 */
export const DeviceChart = ({ region, deviceId, metrics, picker }: { region: string; deviceId: string; metrics: readonly string[]; picker?: ReactNode }) => {
  const trpc = useTRPC();
  const url = useUrlState(URL_KEYS);
  const groups = useMemo(() => metricGroups(metrics), [metrics]);
  const group = pickGroup(groups, url.values.metric);
  const range = parseTimeRange(url.values);
  const auto = url.values.auto !== "off";
  const { ref, width } = useWidth();

  // A relative range follows the clock at about one point's pace while auto-refresh is on.
  // Only its width matters here, so any instant will do.
  const span = resolveTimeRange(range, 0);
  const step = refreshEveryMs(span);
  const ticking = auto && range.kind === "relative";
  const now = useNow(ticking ? step : 3_600_000);
  const [frozenAt, setFrozenAt] = useState(() => Date.now());
  const { from, to } = resolveTimeRange(range, ticking ? now : frozenAt, ticking ? step : 1);
  const band = url.values.band ? url.values.band === "on" : (group?.metrics.length ?? 0) <= 4;

  const series = useQuery(
    trpc.monitoring.devices.series.queryOptions(
      { region, device: deviceId, metrics: group?.metrics ?? [], from, to, width },
      { enabled: Boolean(group), placeholderData: keepPreviousData, retry: false },
    ),
  );
  const setRange = (next: TimeRange, push = false) => {
    setFrozenAt(Date.now());
    url.set(timeRangeParams(next), { push });
  };
  const unit = group ? commonUnit(group.metrics) : "";
  const chartSeries = useMemo(
    () => (series.data?.series ?? []).map((s) => ({ key: s.metric.replace(/\./g, "_"), label: metricLabel(s.metric), points: s.points })),
    [series.data],
  );
  const stats = useMemo<Stat[]>(
    () =>
      (series.data?.series ?? []).map((s) => ({
        metric: s.metric,
        min: s.points.length ? Math.min(...s.points.map((p) => p.min)) : undefined,
        max: s.points.length ? Math.max(...s.points.map((p) => p.max)) : undefined,
        avg: s.points.length ? s.points.reduce((n, p) => n + p.avg * p.count, 0) / Math.max(1, s.points.reduce((n, p) => n + p.count, 0)) : undefined,
        last: s.points.at(-1)?.last,
      })),
    [series.data],
  );

  if (!group)
    return (
      <div className="card" data-testid="device-chart">
        <div className="card-body">
          {picker}
          <div className="empty">This device has not reported any metric yet.</div>
        </div>
      </div>
    );
  return (
    <div className="card" data-testid="device-chart">
      <div className="card-head">
        <h2>Charts</h2>
      </div>
      <div className="card-body" style={{ display: "flex", flexDirection: "column", gap: 12 }}>
        <div className="filters" style={{ alignItems: "flex-end" }}>
          {picker}
          <Field label="Metric">{(control) => <Select {...control} value={group.id} onValue={(metric) => url.set({ metric })} options={groups.map((g) => ({ value: g.id, label: g.label }))} data-testid="metric-select" />}</Field>
          <label className="check">
            <input type="checkbox" checked={band} onChange={(e) => url.set({ band: e.target.checked ? "on" : "off" })} data-testid="band-toggle" />
            Min / max band
          </label>
          <span className="actions">
            <button type="button" className="btn btn-sm" onClick={() => setRange(zoomOut({ from, to }, Date.now()), true)} data-testid="zoom-out">
              Zoom out
            </button>
            {range.kind === "custom" ? (
              <button type="button" className="btn btn-sm" onClick={() => setRange({ kind: "relative", id: "1h" })} data-testid="zoom-reset">
                Reset
              </button>
            ) : null}
          </span>
        </div>
        <TimeRangePicker value={range} onChange={(r) => setRange(r, true)} autoRefresh={{ on: auto, onChange: (on) => url.set({ auto: on ? null : "off" }) }} />
        <div ref={ref} aria-busy={series.isFetching}>
          {series.isError ? (
            <div className="alert alert-error" role="alert">
              <p style={{ flex: 1 }}>Could not load the chart: {errorMessage(series.error)}</p>
              <button type="button" className="btn btn-sm" onClick={() => void series.refetch()}>
                Try again
              </button>
            </div>
          ) : !series.data ? (
            <div className="empty" role="status" style={{ height: 280 }}>
              Loading chart…
            </div>
          ) : chartSeries.every((s) => s.points.length === 0) ? (
            <div className="empty" data-testid="chart-empty" style={{ height: 280 }}>
              <strong>No data in this range</strong>
              <p>Pick a longer range, or wait for the device to report.</p>
            </div>
          ) : (
            <TimeSeriesChart
              series={chartSeries}
              from={series.data.from}
              to={series.data.to}
              unit={unit}
              band={band}
              onZoom={(a, b) => setRange(zoomTo(a, b), true)}
              height={300}
              label={`${group.label}, ${GRANULARITY_LABELS[series.data.granularity]}`}
              testId="metric-chart"
            />
          )}
        </div>
        {series.data ? (
          <p className="muted" style={{ margin: 0 }} data-testid="chart-granularity" data-granularity={series.data.granularity} data-step={series.data.stepMs}>
            {GRANULARITY_LABELS[series.data.granularity]}, one point per {Math.round(series.data.stepMs / 60_000) >= 1 ? `${Math.round(series.data.stepMs / 60_000)} min` : `${Math.round(series.data.stepMs / 1000)} s`} · drag across the chart to zoom in
          </p>
        ) : null}
        {stats.length ? (
          <DataTable
            label="Statistics over the range"
            columns={statColumns(unit)}
            rows={stats}
            rowId={(r) => r.metric}
            rowAttrs={(r) => ({ "data-testid": `stat-${r.metric}`, "data-min": r.min, "data-max": r.max })}
            status={{ loading: false }}
            noun="statistics"
            empty={{ title: "No data" }}
            sortParam={false}
            dense
            bare
            maxHeight={260}
            testId="chart-stats"
          />
        ) : null}
      </div>
    </div>
  );
};
