"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "@/app/_trpc/client";
import { errorMessage } from "../../_components/ui/messages";
import { useUrlState } from "../../_components/ui/url-state";

const FLOWS = [
  { key: "harvest", label: "Harvest (PV)", color: "#e67700" },
  { key: "store.in", label: "Into battery", color: "#146c36" },
  { key: "store.out", label: "Out of battery", color: "#2b8a3e" },
  { key: "yield", label: "Yield (load)", color: "#2458d3" },
] as const;

const MJ_PER_KWH = 3.6;
const pad = (n: number) => String(n).padStart(2, "0");
const labelOf = (iso: string, period: "hour" | "day") => {
  const d = new Date(iso);
  return period === "hour" ? `${pad(d.getHours())}:00` : `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};

/**
 * A solar site's energy per period (last 6 hours or last 7 days, the current one included):
 * harvest, battery in / out and yield in kWh, from the service's rollups. Refreshed every
 * minute; the current period grows as the site reports.
 */
export const SiteEnergy = ({ region, site }: { region: string; site: string }) => {
  const trpc = useTRPC();
  const url = useUrlState(["energy"]);
  const period = url.values.energy === "hour" ? "hour" : "day";
  const energy = useQuery(trpc.monitoring.sites.energy.queryOptions({ region, site, period }, { refetchInterval: 60_000, placeholderData: keepPreviousData }));
  const data = (energy.data?.items ?? []).map((item) => ({ label: labelOf(item.from, period), ...Object.fromEntries(FLOWS.map((f) => [f.key.replace(".", "_"), (item.values[f.key] ?? 0) / MJ_PER_KWH])) }));
  const totals = FLOWS.map((f) => ({ ...f, kwh: (energy.data?.items ?? []).reduce((n, i) => n + (i.values[f.key] ?? 0), 0) / MJ_PER_KWH }));
  return (
    <div className="card" data-testid="site-energy">
      <div className="card-head">
        <h2>Energy</h2>
        <div role="group" aria-label="Energy period" className="segmented">
          {(["hour", "day"] as const).map((p) => (
            <button key={p} type="button" className={`btn btn-sm ${period === p ? "btn-primary" : ""}`} aria-pressed={period === p} onClick={() => url.set({ energy: p === "day" ? null : p })}>
              {p === "hour" ? "Last 6 hours" : "Last 7 days"}
            </button>
          ))}
        </div>
      </div>
      <div className="card-body">
        {energy.isError ? (
          <div className="alert alert-error" role="alert">
            <p>Could not load the energy: {errorMessage(energy.error)}</p>
          </div>
        ) : !energy.data ? (
          <div className="empty" role="status">
            Loading energy…
          </div>
        ) : (
          <>
            <p className="muted" style={{ marginTop: 0 }} data-testid="energy-totals">
              {totals.map((t) => `${t.label}: ${t.kwh.toFixed(2)} kWh`).join(" · ")}
            </p>
            <figure className="ts-chart" style={{ height: 220 }} aria-label={`Energy per ${period} in kWh`}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={data} margin={{ top: 6, right: 16, bottom: 0, left: 0 }}>
                  <CartesianGrid stroke="#eceef2" vertical={false} />
                  <XAxis dataKey="label" fontSize={11} />
                  <YAxis fontSize={11} width={56} tickFormatter={(v: number) => v.toFixed(v >= 10 ? 0 : 2)} label={{ value: "kWh", angle: -90, position: "insideLeft", fontSize: 11 }} />
                  <Tooltip formatter={(v, name) => [`${Number(v).toFixed(2)} kWh`, String(name)]} />
                  <Legend wrapperStyle={{ fontSize: 11 }} itemSorter={null} />
                  {FLOWS.map((f) => (
                    <Bar key={f.key} dataKey={f.key.replace(".", "_")} name={f.label} fill={f.color} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </figure>
          </>
        )}
      </div>
    </div>
  );
};
