"use client";

import { useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { formatAge, formatDateTime } from "../../../../_components/format";
import { DataTable } from "../../../../_components/ui/data-table";
import { TextFilter } from "../../../../_components/ui/filters";
import { KpiTiles, type Kpi } from "../../../../_components/ui/kpi-tiles";
import { useUrlState } from "../../../../_components/ui/url-state";
import { useNow } from "../../../../_components/use-now";
import { AlarmTable } from "../../../_components/alarm-table";
import { formatValue, unitOf } from "../../../_components/metrics";
import { siteHref } from "../../../_components/monitoring-badges";
import { MonitoringHeader, MonitoringMissing } from "../../../_components/monitoring-header";
import { useLiveAlarms, useLiveDevices } from "../../../_components/use-live-monitoring";
import { DeviceChart } from "../../../_components/device-chart";

type ValueRow = { metric: string; value: number };
const valueColumn = createColumnHelper<ValueRow>();
const VALUE_COLUMNS = [
  valueColumn.accessor("metric", { header: "Metric", meta: { className: "mono" } }),
  valueColumn.accessor("value", { header: "Latest", meta: { className: "num" }, cell: ({ row: { original: r } }) => formatValue(r.value, unitOf(r.metric)) }),
];

const byName = (a: ValueRow, b: ValueRow) => a.metric.localeCompare(b.metric, undefined, { numeric: true });

/** One device: live state and latest values, its alarms (acknowledge / clear), and charts of any metric. */
export const DevicePage = ({ region, deviceId }: { region: string; deviceId: string }) => {
  const trpc = useTRPC();
  const detail = useQuery(trpc.monitoring.devices.get.queryOptions({ region, device: deviceId }, { retry: false }));
  const live = useLiveDevices({ region, device: deviceId });
  const liveAlarms = useLiveAlarms({ region, device: deviceId });
  const now = useNow(5000);
  const url = useUrlState(["q"]);
  const device = live.items.get(`${region}/${deviceId}`) ?? detail.data?.device;
  const alarms = useMemo(
    () => (liveAlarms.received ? [...liveAlarms.items.values()] : (detail.data?.alarms ?? [])).sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    [liveAlarms.received, liveAlarms.items, detail.data],
  );
  const needle = url.values.q.trim().toLowerCase();
  const values = useMemo(
    () =>
      Object.entries(device?.values ?? {})
        .map(([metric, value]) => ({ metric, value }))
        .filter((r) => !needle || r.metric.toLowerCase().includes(needle))
        .sort(byName),
    [device, needle],
  );
  // The metric list grows when a device reports a new one (a pack docked); the live values say so.
  const metrics = useMemo(() => [...new Set([...(detail.data?.metrics ?? []), ...Object.keys(device?.values ?? {})])], [detail.data, device]);

  if (!device) return <MonitoringMissing title={deviceId} titleClassName="mono" noun="device" error={detail.error} notFound={`There is no device ${deviceId} in ${region} among the regions you may see.`} testId="device-error" />;

  const status = Object.entries(device.status ?? {})
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "boolean" ? (v ? "yes" : "no") : String(v)}`)
    .join(" · ");
  const tiles: Kpi[] = [
    { id: "state", label: "State", value: device.online ? "Reporting" : "Silent", tone: device.online ? "ok" : "danger", note: status || undefined },
    { id: "seen", label: "Last data", value: device.lastSeenAt ? `${formatAge(now - new Date(device.lastSeenAt).getTime())} ago` : "never", note: formatDateTime(device.lastSeenAt) },
    { id: "alarms", label: "Active alarms", value: device.activeAlarms, tone: device.activeAlarms ? "danger" : undefined },
    { id: "site", label: "Site", value: <Link href={siteHref(device.region, device.site)} className="tile-value-text mono">{device.site}</Link>, note: `${device.dataset} · ${device.region}` },
  ];

  return (
    <>
      <MonitoringHeader
        title={device.id}
        titleClassName="mono"
        titleTestId="device-title"
        description={
          <>
            {device.dataset} device at <Link href={siteHref(device.region, device.site)}>{device.site}</Link> in {device.region}
          </>
        }
        live={live.state}
      />
      <section className="section" aria-label="Device figures">
        <KpiTiles items={tiles} label="Device figures" testId="device-kpis" />
      </section>
      <section className="section" aria-labelledby="device-alarms">
        <h2 id="device-alarms">Active alarms</h2>
        <AlarmTable label="Active alarms of this device" alarms={alarms} status={{ loading: !liveAlarms.received && detail.isPending }} empty={{ title: "No active alarms", hint: "This device is within every alarm rule right now." }} testId="device-alarms-table" />
      </section>
      <section className="section">
        <DeviceChart region={region} deviceId={deviceId} metrics={metrics} />
      </section>
      <section className="section" aria-labelledby="device-values">
        <div className="card-head" style={{ padding: "0 0 8px" }}>
          <h2 id="device-values">Latest values</h2>
          <TextFilter label="Filter metrics" value={url.values.q} onChange={(q) => url.set({ q })} placeholder="Metric…" testId="values-filter" />
        </div>
        <DataTable
          label="Latest values"
          columns={VALUE_COLUMNS}
          rows={values}
          rowId={(r) => r.metric}
          status={{ loading: false }}
          noun="values"
          empty={needle ? { title: "No metric matches", hint: "Try another name." } : { title: "No values yet" }}
          sortParam="valueSort"
          dense
          maxHeight={420}
          testId="values-table"
        />
      </section>
    </>
  );
};
