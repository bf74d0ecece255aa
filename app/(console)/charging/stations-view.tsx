"use client";

import { useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useDeferredValue, useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { CONNECTOR_STATUSES, type StationView } from "@/contracts/csms";
import { countStationTiles, STATION_TILES } from "@/contracts/console/station-tiles";
import { computeKpis } from "@/contracts/csms/kpis";
import { matchesStationFilter, type StationFilter } from "@/contracts/csms/station-filter";
import { LinkBadge, LiveIndicator } from "../_components/badges";
import { useLiveHealth } from "../_components/live-health";
import { useMe } from "../_components/session";
import { Ago } from "../_components/ui/ago";
import { DataTable } from "../_components/ui/data-table";
import { boolOptions, FilterBar, optionsOf, SelectFilter, TextFilter } from "../_components/ui/filters";
import { KpiTiles, type Kpi } from "../_components/ui/kpi-tiles";
import { PageHeader } from "../_components/ui/page-header";
import { SelectionBar } from "../_components/ui/selection-bar";
import { oneOf, parseBool, useUrlState, type UrlPatch } from "../_components/ui/url-state";
import { BulkPanel } from "./_components/bulk-panel";
import { ChargingNav } from "./_components/charging-nav";
import { ConnectorStrip, formatKw, formatKwh, OnlineBadge, PROTOCOL_LABELS } from "./_components/station-badges";
import { useLiveStations } from "./_components/use-live-stations";

const MAX_SELECTION = 5000;
const PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"] as const;
const FILTERS = ["q", "online", "status", "protocol"] as const;
type FilterKey = (typeof FILTERS)[number];

const byId = (a: StationView, b: StationView) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const lastSeen = (s: StationView) => (s.lastSeenAt ? new Date(s.lastSeenAt).getTime() : undefined);
/** Sorts the Connectors column: faulted first, then unavailable, charging, the rest. */
const STATUS_RANK: Record<string, number> = { Faulted: 0, Unavailable: 1, Charging: 2 };
const worstStatus = (s: StationView) => Math.min(9, ...s.connectors.map((c) => STATUS_RANK[c.status] ?? 3));

const column = createColumnHelper<StationView>();

// Stable columns: the ticking "Last seen" cells re-render themselves (ui/ago), not the table.
const STATION_COLUMNS = [
  column.accessor("id", { header: "Station", meta: { className: "mono" }, cell: ({ getValue }) => <Link href={`/charging/${encodeURIComponent(getValue())}`}>{getValue()}</Link> }),
  column.accessor("online", { header: "Connection", cell: ({ getValue }) => <OnlineBadge online={getValue()} /> }),
  column.accessor((s) => (s.protocol ? PROTOCOL_LABELS[s.protocol] : ""), { id: "protocol", header: "Protocol", cell: ({ getValue }) => getValue() || "—" }),
  column.accessor(worstStatus, { id: "connectors", header: "Connectors", cell: ({ row }) => <ConnectorStrip station={row.original} /> }),
  column.accessor((s) => s.activeTransactionIds.length, { id: "sessions", header: "Sessions", meta: { className: "num" }, cell: ({ getValue }) => getValue() || "—" }),
  column.accessor((s) => s.powerW ?? undefined, { id: "power", header: "Power", meta: { className: "num" }, sortUndefined: "last", cell: ({ getValue }) => formatKw(getValue()) }),
  column.accessor((s) => s.energyTodayWh ?? undefined, { id: "energy", header: "Energy today", meta: { className: "num" }, sortUndefined: "last", cell: ({ getValue }) => formatKwh(getValue()) }),
  column.accessor(lastSeen, { id: "lastSeen", header: "Last seen", meta: { className: "num" }, sortUndefined: "last", cell: ({ getValue }) => <Ago at={getValue()} /> }),
  column.accessor((s) => [s.vendor, s.model].filter(Boolean).join(" "), { id: "model", header: "Model", meta: { className: "truncate" }, cell: ({ getValue }) => getValue() || "—" }),
  column.accessor((s) => s.serialNumber ?? "", { id: "serial", header: "Serial", meta: { className: "mono truncate" }, cell: ({ getValue }) => getValue() || "—" }),
];

const sameFilter = (a: StationFilter, b: StationFilter) => a.status === b.status && a.online === b.online;

/** The fleet figures; the server's until the live feed arrives, then computed from it. Tiles filter the table. */
const FleetKpis = ({ stations, filter, set }: { stations: ReadonlyMap<string, StationView> | null; filter: StationFilter; set: (patch: UrlPatch<FilterKey>) => void }) => {
  const trpc = useTRPC();
  const query = useQuery(trpc.charging.kpis.queryOptions(undefined, { enabled: stations === null, refetchInterval: 10_000 }));
  const live = useMemo(() => (stations ? { ...computeKpis(stations.values()), stationTiles: countStationTiles(stations.values()) } : null), [stations]);
  const k = live ?? query.data ?? null;
  const items: Kpi[] = [
    { id: "stations", label: "Stations", value: k?.totalStations ?? "—", note: k ? `${k.byProtocol["ocpp1.6"] ?? 0} × 1.6J, ${k.byProtocol["ocpp2.0.1"] ?? 0} × 2.0.1` : undefined },
    ...STATION_TILES.map((tile): Kpi => {
      const active = sameFilter(filter, tile.filter);
      const n = k?.stationTiles[tile.id];
      return {
        id: tile.id,
        label: tile.label,
        value: n ?? "—",
        tone: n && tile.id !== "charging" ? (tile.id === "faulted" || tile.id === "offline" ? "danger" : "warn") : undefined,
        active,
        // A tile applies its own filter (replacing another tile's); clicking it again clears it.
        onSelect: () => set(active ? { status: null, online: null } : { status: null, online: null, ...toPatch(tile.filter) }),
        action: tile.action,
      };
    }),
    { id: "power", label: "Power now", value: k ? formatKw(k.powerW) : "—", note: k ? `${k.activeSessions} active ${k.activeSessions === 1 ? "session" : "sessions"}` : undefined },
    { id: "energy", label: "Energy today", value: k ? formatKwh(k.energyTodayWh) : "—" },
  ];
  return <KpiTiles items={items} label="Fleet figures" testId="kpis" />;
};

const toPatch = (filter: StationFilter): UrlPatch<FilterKey> => ({
  ...(filter.status ? { status: filter.status } : {}),
  ...(filter.online !== undefined ? { online: String(filter.online) } : {}),
});

/** Every charge station, live: figures, filters in the URL, a virtualized table, bulk commands. */
export const StationsView = () => {
  const { can } = useMe();
  const canCommand = can("charging.command");
  const live = useLiveStations();
  const health = useLiveHealth();
  const link = health.links.find((l) => l.id === "charging");
  const url = useUrlState(FILTERS);
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());

  const { q, online, status, protocol } = url.values;
  const filter: StationFilter = useMemo(
    () => ({ q: q || undefined, online: parseBool(online), status: oneOf(CONNECTOR_STATUSES, status), protocol: oneOf(PROTOCOLS, protocol) }),
    [q, online, status, protocol],
  );
  const deferredFilter = useDeferredValue(filter);
  const deferredStations = useDeferredValue(live.stations);
  const rows = useMemo(() => [...deferredStations.values()].filter((s) => matchesStationFilter(s, deferredFilter)).sort(byId), [deferredStations, deferredFilter]);
  const selectedIds = useMemo(() => [...selected].sort(), [selected]);
  const visibleIds = useMemo(() => new Set(rows.map((s) => s.id)), [rows]);

  return (
    <>
      <PageHeader
        title="Charging"
        description="Every charge station, live from the CSMS."
        actions={
          <span className="status-line">
            {link ? <LinkBadge state={link.state} /> : null}
            <LiveIndicator state={live.state} />
          </span>
        }
      />
      <ChargingNav />

      {link && link.state !== "connected" ? (
        <div className="alert alert-warn" role="status" data-testid="csms-link-alert">
          <p>
            The CSMS manager is {link.state === "down" ? "unreachable" : "reconnecting"}
            {link.detail ? ` (${link.detail})` : ""}. The figures below are the last known state and may be stale.
          </p>
        </div>
      ) : null}
      {health.received && !link ? (
        <div className="alert alert-info" role="status" data-testid="csms-off-alert">
          <p>The charging connector is not running (CSMS_MANAGER_URL is off). Nothing to show.</p>
        </div>
      ) : null}

      <section className="section" aria-label="Fleet figures">
        <FleetKpis stations={live.received ? live.stations : null} filter={filter} set={url.set} />
      </section>

      {canCommand && selectedIds.length > 0 ? (
        <section className="section" aria-label="Bulk command">
          <BulkPanel stationIds={selectedIds} />
        </section>
      ) : null}

      <div className="section">
        <FilterBar label="Filter stations" onClear={url.clear} canClear={url.any}>
          <TextFilter label="Search" value={q} onChange={(v) => url.set({ q: v })} placeholder="Id, vendor, model or serial…" size="wide" testId="filter-q" />
          <SelectFilter
            label="Connection"
            value={online}
            onChange={(v) => url.set({ online: v })}
            options={boolOptions("Online and offline", "Online", "Offline")}
            testId="filter-online"
          />
          <SelectFilter label="Connector status" value={filter.status ?? ""} onChange={(v) => url.set({ status: v })} options={optionsOf("Any status", CONNECTOR_STATUSES)} testId="filter-status" />
          <SelectFilter label="OCPP version" value={filter.protocol ?? ""} onChange={(v) => url.set({ protocol: v })} options={optionsOf("Any version", PROTOCOLS, (p) => PROTOCOL_LABELS[p]!)} testId="filter-protocol" />
        </FilterBar>
      </div>

      {canCommand ? <SelectionBar ids={selectedIds} visible={visibleIds} noun={["station", "stations"]} onClear={() => setSelected(new Set())} /> : null}

      <DataTable
        label="Stations"
        columns={STATION_COLUMNS}
        rows={rows}
        rowId={(s) => s.id}
        rowHref={(s) => `/charging/${encodeURIComponent(s.id)}`}
        rowAttrs={(s) => ({ "data-testid": `station-row-${s.id}`, "data-online": s.online })}
        status={{ loading: !live.received }}
        noun="stations"
        empty={url.any ? { title: "No station matches these filters", hint: "Try other filters." } : { title: "No stations yet", hint: "Stations appear here as soon as they are registered with the CSMS." }}
        virtual={{ rowHeight: 37 }}
        selection={canCommand ? { selected, onChange: setSelected, max: MAX_SELECTION, name: (id) => id } : undefined}
        foot={
          <span data-testid="stations-count">
            {rows.length} of {live.stations.size} {live.stations.size === 1 ? "station" : "stations"} shown
            {canCommand && selected.size ? ` · ${selected.size} selected` : ""}
            {live.state === "reconnecting" ? " · live updates paused; reconnecting…" : ""}
          </span>
        }
        testId="stations-table"
        emptyTestId="stations-empty"
      />
    </>
  );
};
