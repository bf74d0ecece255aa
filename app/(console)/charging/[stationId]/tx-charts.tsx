"use client";

import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "@/app/_trpc/client";
import { errorMessage } from "../../_components/ui/messages";
import { formatDateTime } from "../../_components/format";
import { chartPoints } from "../_components/session-energy";
import { formatKwh } from "../_components/station-badges";

const pad = (n: number) => String(n).padStart(2, "0");
const clock = (ms: number) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

const Chart = ({ data, dataKey, unit, label, color, testId }: { data: Record<string, number | null>[]; dataKey: string; unit: string; label: string; color: string; testId: string }) => (
  <div data-testid={testId}>
    <h3 style={{ marginBottom: 6 }}>{label}</h3>
    <div className="chart-box">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 4, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eceef2" />
          <XAxis dataKey="t" type="number" domain={["dataMin", "dataMax"]} tickFormatter={clock} fontSize={11} />
          <YAxis fontSize={11} width={64} unit={unit} />
          <Tooltip labelFormatter={(v) => formatDateTime(Number(v))} formatter={(v) => [`${typeof v === "number" ? v.toFixed(2) : String(v)} ${unit}`, label]} />
          <Line type="monotone" dataKey={dataKey} stroke={color} dot={false} isAnimationActive={false} connectNulls />
        </LineChart>
      </ResponsiveContainer>
    </div>
  </div>
);

/**
 * Power, energy and SoC of one transaction (recharts), from its stored samples; refetched
 * (at most every 2 s) whenever a live meter reading for it arrives.
 */
export const TransactionCharts = ({ stationId, transactionId }: { stationId: string; transactionId: string }) => {
  const trpc = useTRPC();
  const tx = useQuery(trpc.charging.transactions.get.queryOptions({ id: transactionId }, { staleTime: 0 }));
  const [meterTick, setMeterTick] = useState(0);
  useSubscription(
    trpc.charging.stations.onMeter.subscriptionOptions(
      { stationId },
      {
        onData: (event) => {
          const msg = event.data;
          if (msg.kind === "changes" && msg.upserts.some((m) => m.transactionId === transactionId)) setMeterTick((n) => n + 1);
        },
      },
    ),
  );
  // At most one refetch per 2 s however fast readings arrive.
  const { refetch } = tx;
  const lastFetch = useRef(0);
  useEffect(() => {
    if (meterTick === 0) return;
    const wait = Math.max(0, lastFetch.current + 2000 - Date.now());
    const timer = setTimeout(() => {
      lastFetch.current = Date.now();
      void refetch();
    }, wait);
    return () => clearTimeout(timer);
  }, [meterTick, refetch]);

  const data = useMemo(() => (tx.data ? chartPoints(tx.data) : []), [tx.data]);

  if (tx.isError) return <div className="alert alert-error">Could not load transaction {transactionId}: {errorMessage(tx.error)}</div>;
  if (!tx.data) return <div className="empty">Loading transaction…</div>;
  const t = tx.data;
  return (
    <div data-testid={`transaction-${t.id}`}>
      <dl className="kv" style={{ marginBottom: 12 }}>
        <dt>Transaction</dt>
        <dd className="mono">{t.id}</dd>
        <dt>Connector</dt>
        <dd>
          EVSE {t.evseId ?? "—"} / connector {t.connectorId ?? "—"}
        </dd>
        <dt>Id tag</dt>
        <dd className="mono">{t.idTag ?? "—"}</dd>
        <dt>Started</dt>
        <dd>{formatDateTime(t.startedAt)}</dd>
        <dt>Energy</dt>
        <dd data-testid="transaction-energy">{formatKwh(t.energyWh)}</dd>
        <dt>Samples</dt>
        <dd>{t.samples.length}</dd>
      </dl>
      {data.length === 0 ? (
        <p className="muted">No meter values yet.</p>
      ) : (
        <div className="grid-2">
          <Chart data={data} dataKey="powerKw" unit="kW" label="Power" color="#2458d3" testId="chart-power" />
          <Chart data={data} dataKey="energyKwh" unit="kWh" label="Session energy" color="#146c36" testId="chart-energy" />
          {data.some((d) => d.soc !== null && d.soc !== undefined) ? <Chart data={data} dataKey="soc" unit="%" label="State of charge" color="#8a4b00" testId="chart-soc" /> : null}
        </div>
      )}
    </div>
  );
};
