"use client";

import { useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { DeviceView } from "@/contracts/monitoring";
import { formatAge, formatDateTime } from "../../../../_components/format";
import { DataTable } from "../../../../_components/ui/data-table";
import { Field, Select } from "../../../../_components/ui/field";
import { KpiTiles, type Kpi } from "../../../../_components/ui/kpi-tiles";
import { useUrlState } from "../../../../_components/ui/url-state";
import { useNow } from "../../../../_components/use-now";
import { AlarmTable } from "../../../_components/alarm-table";
import { DeviceChart } from "../../../_components/device-chart";
import { SiteEnergy } from "../../../_components/site-energy";
import { AlarmCountBadges, deviceHref } from "../../../_components/monitoring-badges";
import { MonitoringHeader, MonitoringMissing } from "../../../_components/monitoring-header";
import { useLiveAlarms, useLiveDevices, useLiveSites } from "../../../_components/use-live-monitoring";

const DATASET_LABELS: Record<string, string> = { pms: "Battery pack (PMS)", mppt: "Charge controller (MPPT)", inverter: "Inverter", building: "Building device" };

/** The few figures a device's row shows, by dataset. */
const headline = (d: DeviceView) => {
  const v = d.values;
  const fmt = (n: number | undefined, unit: string, digits = 1) => (n === undefined ? null : `${n.toFixed(digits)} ${unit}`);
  if (d.dataset === "pms") {
    const packs = Object.keys(v).filter((k) => /^pack\.[^.]+\.volts$/.test(k));
    const low = Math.min(...Object.entries(v).filter(([k]) => k.endsWith(".vcl")).map(([, n]) => n));
    return [packs.length ? `${packs.length} ${packs.length === 1 ? "pack" : "packs"}` : null, Number.isFinite(low) ? `lowest cell ${low.toFixed(3)} V` : null].filter(Boolean).join(" · ");
  }
  if (d.dataset === "mppt" || d.dataset === "inverter") return [fmt(v["pv.watts"], "W PV", 0), fmt(v["battery.volts"], "V battery"), fmt(v["load.watts"], "W load", 0)].filter(Boolean).join(" · ");
  return Object.entries(v).slice(0, 3).map(([k, n]) => `${k} ${n.toFixed(1)}`).join(" · ");
};

/** The chart's device: the one in the URL, else the charge controller (PV, battery, load), else the first. */
const chartDevice = (devices: readonly DeviceView[], id: string) =>
  devices.find((d) => d.id === id) ?? devices.find((d) => d.dataset === "mppt") ?? devices.find((d) => d.dataset === "inverter") ?? devices[0];

/** Charts of any metric of any device of the site (the device page's chart, with a device picker). */
const SiteCharts = ({ region, devices }: { region: string; devices: readonly DeviceView[] }) => {
  const url = useUrlState(["device", "metric"]);
  const device = chartDevice(devices, url.values.device);
  const metrics = useMemo(() => Object.keys(device?.values ?? {}), [device]);
  if (!device) return null;
  const picker = (
    <Field label="Device">
      {(control) => <Select {...control} value={device.id} onValue={(id) => url.set({ device: id, metric: null })} options={devices.map((d) => ({ value: d.id, label: `${d.id} (${DATASET_LABELS[d.dataset] ?? d.dataset})` }))} data-testid="chart-device" />}
    </Field>
  );
  return <DeviceChart key={device.id} region={region} deviceId={device.id} metrics={metrics} picker={picker} />;
};

const column = createColumnHelper<DeviceView>();
const deviceColumns = (now: number) => [
  column.accessor("id", { header: "Device", meta: { className: "mono" }, cell: ({ row: { original: d } }) => <Link href={deviceHref(d.region, d.id)}>{d.id}</Link> }),
  column.accessor("dataset", { header: "Type", cell: ({ getValue }) => DATASET_LABELS[getValue()] ?? getValue() }),
  column.accessor("online", { header: "State", cell: ({ getValue }) => <span className={`badge ${getValue() ? "badge-ok" : "badge-danger"}`}>{getValue() ? "Reporting" : "Silent"}</span> }),
  column.accessor((d) => (d.lastSeenAt ? new Date(d.lastSeenAt).getTime() : undefined), {
    id: "lastSeen",
    header: "Last data",
    meta: { className: "num" },
    sortUndefined: "last",
    cell: ({ row: { original: d }, getValue }) => <span title={formatDateTime(d.lastSeenAt)}>{getValue() ? `${formatAge(now - getValue()!)} ago` : "never"}</span>,
  }),
  column.display({ id: "now", header: "Now", meta: { className: "muted truncate" }, cell: ({ row: { original: d } }) => headline(d) || "—" }),
  column.accessor("activeAlarms", { header: "Alarms", meta: { className: "num" }, cell: ({ getValue }) => (getValue() ? <span className="badge badge-danger">{getValue()}</span> : "—") }),
];

/** One site: its figures, devices (live latest values) and active alarms, in a region the user may see. */
export const SitePage = ({ region, siteId }: { region: string; siteId: string }) => {
  const trpc = useTRPC();
  const detail = useQuery(trpc.monitoring.sites.get.queryOptions({ region, site: siteId }, { retry: false }));
  const liveSite = useLiveSites({ region, site: siteId });
  const liveDevices = useLiveDevices({ region, site: siteId });
  const liveAlarms = useLiveAlarms({ region, site: siteId });
  const now = useNow(5000);
  const columns = useMemo(() => deviceColumns(now), [now]);
  const site = liveSite.items.get(`${region}/${siteId}`) ?? detail.data?.site;
  const devices = useMemo(() => {
    const rows = liveDevices.received ? [...liveDevices.items.values()] : (detail.data?.devices ?? []);
    return rows.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  }, [liveDevices.received, liveDevices.items, detail.data]);
  const alarms = useMemo(() => [...liveAlarms.items.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [liveAlarms.items]);

  if (!site) return <MonitoringMissing title={siteId} noun="site" error={detail.error} notFound={`There is no site ${siteId} in ${region} among the regions you may see.`} testId="site-error" />;

  const tiles: Kpi[] = [
    { id: "devices", label: "Devices reporting", value: `${site.onlineDevices} / ${site.devices}`, tone: site.onlineDevices < site.devices ? "warn" : undefined },
    { id: "alarms", label: "Active alarms", value: site.alarms.total, note: <AlarmCountBadges counts={site.alarms} />, tone: site.alarms.critical ? "danger" : site.alarms.total ? "warn" : undefined },
    { id: "seen", label: "Last data", value: site.lastSeenAt ? `${formatAge(now - new Date(site.lastSeenAt).getTime())} ago` : "never", note: formatDateTime(site.lastSeenAt) },
    { id: "where", label: "Region", value: <span className="tile-value-text mono">{site.region}</span>, note: site.lat !== null && site.lon !== null ? `${site.lat.toFixed(3)}, ${site.lon.toFixed(3)}` : site.kind === "solar" ? "Solar site" : "Building" },
  ];

  return (
    <>
      <MonitoringHeader title={site.name} titleTestId="site-title" description={`${site.kind === "solar" ? "Solar site" : "Building"} ${site.id} in ${site.region}`} live={liveDevices.state} />
      <section className="section" aria-label="Site figures">
        <KpiTiles items={tiles} label="Site figures" testId="site-kpis" />
      </section>
      <section className="section" aria-labelledby="site-alarms">
        <h2 id="site-alarms">Active alarms</h2>
        <AlarmTable
          label="Active alarms of this site"
          alarms={alarms}
          status={{ loading: !liveAlarms.received }}
          empty={{ title: "No active alarms", hint: "Alarms this site raises appear here as they happen." }}
          sortParam="alarmSort"
          testId="site-alarms-table"
        />
      </section>
      {site.kind === "solar" ? (
        <section className="section">
          <SiteEnergy region={region} site={site.id} />
        </section>
      ) : null}
      <section className="section">
        <SiteCharts region={region} devices={devices} />
      </section>
      <section className="section" aria-labelledby="site-devices">
        <h2 id="site-devices">Devices</h2>
        <DataTable
          label="Devices"
          columns={columns}
          rows={devices}
          rowId={(d) => d.id}
          rowHref={(d) => deviceHref(d.region, d.id)}
          rowAttrs={(d) => ({ "data-testid": `device-row-${d.id}` })}
          status={{ loading: !liveDevices.received && detail.isPending, error: detail.error ?? undefined, retry: () => void detail.refetch() }}
          noun="devices"
          empty={{ title: "No devices have reported yet", hint: "A device appears with its first reading." }}
          virtual={{ rowHeight: 37 }}
          maxHeight={560}
          foot={`${devices.length} ${devices.length === 1 ? "device" : "devices"}`}
          testId="devices-table"
        />
      </section>
    </>
  );
};
