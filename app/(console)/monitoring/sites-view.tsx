"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo } from "react";
import { ALARM_SEVERITIES, type AlarmCounts, type SiteView } from "@/contracts/monitoring";
import { formatAge, formatDateTime } from "../_components/format";
import { useMe } from "../_components/session";
import { DataTable } from "../_components/ui/data-table";
import { FilterBar, optionsOf, SelectFilter, TextFilter } from "../_components/ui/filters";
import { KpiTiles, type Kpi } from "../_components/ui/kpi-tiles";
import { oneOf, useUrlState } from "../_components/ui/url-state";
import { useNow } from "../_components/use-now";
import { AlarmCountBadges, siteHref } from "./_components/monitoring-badges";
import { MonitoringHeader } from "./_components/monitoring-header";
import { useLiveSites } from "./_components/use-live-monitoring";

const KINDS = ["solar", "building"] as const;
const KIND_LABELS: Record<(typeof KINDS)[number], string> = { solar: "Solar site", building: "Building" };
const FILTERS = ["q", "kind", "alarms"] as const;

const zeroCounts = (): AlarmCounts => ({ ...(Object.fromEntries(ALARM_SEVERITIES.map((s) => [s, 0])) as Record<(typeof ALARM_SEVERITIES)[number], number>), total: 0 });
const addCounts = (a: AlarmCounts, b: AlarmCounts): AlarmCounts => Object.fromEntries(Object.keys(a).map((k) => [k, a[k as keyof AlarmCounts] + b[k as keyof AlarmCounts]])) as AlarmCounts;

const column = createColumnHelper<SiteView>();
const siteColumns = (now: number) => [
  column.accessor("name", { header: "Site", cell: ({ row: { original: s } }) => <Link href={siteHref(s.region, s.id)}>{s.name}</Link> }),
  column.accessor("id", { header: "Id", meta: { className: "mono" } }),
  column.accessor("kind", { header: "Kind", cell: ({ getValue }) => KIND_LABELS[getValue()] }),
  column.accessor((s) => s.onlineDevices, { id: "online", header: "Devices online", meta: { className: "num" }, cell: ({ row: { original: s } }) => `${s.onlineDevices} / ${s.devices}` }),
  column.accessor((s) => (s.lastSeenAt ? new Date(s.lastSeenAt).getTime() : undefined), {
    id: "lastSeen",
    header: "Last data",
    meta: { className: "num" },
    sortUndefined: "last",
    cell: ({ row: { original: s }, getValue }) => <span title={formatDateTime(s.lastSeenAt)}>{getValue() ? `${formatAge(now - getValue()!)} ago` : "never"}</span>,
  }),
  column.accessor((s) => s.alarms.total, { id: "alarms", header: "Active alarms", cell: ({ row: { original: s } }) => <AlarmCountBadges counts={s.alarms} testId={`site-alarms-${s.id}`} /> }),
];

/** One region's sites: a heading with its figures, then the table. */
const RegionSites = ({ region, sites, all, now, filtered }: { region: string; sites: SiteView[]; all: number; now: number; filtered: boolean }) => {
  const columns = useMemo(() => siteColumns(now), [now]);
  const counts = sites.reduce((c, s) => addCounts(c, s.alarms), zeroCounts());
  return (
    <section className="section" aria-labelledby={`region-${region}`} data-testid={`region-${region}`}>
      <div className="card-head" style={{ padding: "0 0 8px" }}>
        <h2 id={`region-${region}`} className="mono">
          {region}
        </h2>
        <span className="status-line">
          <span className="muted">
            {sites.length} of {all} {all === 1 ? "site" : "sites"}
          </span>
          <AlarmCountBadges counts={counts} testId={`region-alarms-${region}`} none="no active alarms" />
        </span>
      </div>
      <DataTable
        label={`Sites in ${region}`}
        columns={columns}
        rows={sites}
        rowId={(s) => `${s.region}/${s.id}`}
        rowHref={(s) => siteHref(s.region, s.id)}
        rowAttrs={(s) => ({ "data-testid": `site-row-${s.id}`, "data-alarms": s.alarms.total })}
        sortParam={`sort-${region}`}
        status={{ loading: false }}
        noun="sites"
        empty={filtered ? { title: "No site here matches these filters" } : { title: "No sites in this region yet", hint: "Sites appear once the monitoring service registers them." }}
        dense
      />
    </section>
  );
};

/** Sites of the user's regions, grouped by region, live with devices online and alarm counts. */
export const SitesView = () => {
  const { user } = useMe();
  const live = useLiveSites();
  const now = useNow(5000);
  const url = useUrlState(FILTERS);
  const kind = oneOf(KINDS, url.values.kind);
  const needle = url.values.q.trim().toLowerCase();
  const withAlarms = url.values.alarms === "true";

  const all = useMemo(() => [...live.items.values()].sort((a, b) => a.region.localeCompare(b.region) || a.name.localeCompare(b.name)), [live.items]);
  const shown = useMemo(
    () => all.filter((s) => (!kind || s.kind === kind) && (!needle || s.name.toLowerCase().includes(needle) || s.id.toLowerCase().includes(needle)) && (!withAlarms || s.alarms.total > 0)),
    [all, kind, needle, withAlarms],
  );
  const regions = useMemo(() => [...new Set([...user.regions, ...all.map((s) => s.region)])].sort(), [user.regions, all]);

  const totals = all.reduce((c, s) => addCounts(c, s.alarms), zeroCounts());
  const devices = all.reduce((n, s) => n + s.devices, 0);
  const online = all.reduce((n, s) => n + s.onlineDevices, 0);
  const k = live.received;
  const tiles: Kpi[] = [
    { id: "regions", label: "Regions", value: user.regions.length, note: user.regions.join(", ") || "none on your account" },
    { id: "sites", label: "Sites", value: k ? all.length : "—" },
    { id: "devices", label: "Devices online", value: k ? `${online} / ${devices}` : "—", tone: k && online < devices ? "warn" : undefined },
    {
      id: "alarms",
      label: "Active alarms",
      value: k ? totals.total : "—",
      note: k ? `${totals.critical} critical · at ${all.filter((s) => s.alarms.total > 0).length} sites` : undefined,
      tone: totals.critical ? "danger" : totals.total ? "warn" : undefined,
      active: withAlarms,
      onSelect: () => url.set({ alarms: withAlarms ? null : "true" }),
      action: "Show only sites with active alarms",
    },
  ];

  return (
    <>
      <MonitoringHeader title="Monitoring" description="Solar sites and buildings of your regions, live from the monitoring service." live={live.state} />
      <section className="section" aria-label="Monitoring figures">
        <KpiTiles items={tiles} label="Monitoring figures" testId="monitoring-kpis" />
      </section>

      {user.regions.length === 0 ? (
        <div className="empty" data-testid="no-regions">
          <strong>No monitoring regions on your account</strong>
          <p>Data stays in its region; an admin can grant you regions under Users.</p>
        </div>
      ) : (
        <>
          <div className="section">
            <FilterBar label="Filter sites" onClear={url.clear} canClear={url.any}>
              <TextFilter label="Site" value={url.values.q} onChange={(q) => url.set({ q })} placeholder="Name or id…" testId="filter-site" />
              <SelectFilter label="Kind" value={kind ?? ""} onChange={(v) => url.set({ kind: v })} options={optionsOf("Any kind", KINDS, (v) => KIND_LABELS[v])} testId="filter-kind" />
            </FilterBar>
          </div>
          {!live.received ? (
            <div className="empty" role="status">
              Loading sites…
            </div>
          ) : (
            regions.map((region) => (
              <RegionSites key={region} region={region} sites={shown.filter((s) => s.region === region)} all={all.filter((s) => s.region === region).length} now={now} filtered={url.any} />
            ))
          )}
        </>
      )}
    </>
  );
};
