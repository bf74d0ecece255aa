"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo, useState } from "react";
import { CONNECTOR_STATUSES, type StationView } from "@/contracts/csms";
import { worstStatus } from "@/contracts/console/station-sort";
import { STATION_TILES } from "@/contracts/console/station-tiles";
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
import { useStationsWindow } from "./_components/use-stations-window";

const MAX_SELECTION = 5000;
const PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"] as const;
const FILTERS = ["q", "online", "status", "protocol"] as const;
type FilterKey = (typeof FILTERS)[number];

const lastSeen = (s: StationView) => (s.lastSeenAt ? new Date(s.lastSeenAt).getTime() : undefined);

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

type Figures = NonNullable<ReturnType<typeof useStationsWindow>["figures"]>;

/** The fleet figures, from the same answer as the rows (so a tile's count is its filter's row count). Tiles filter the table. */
const FleetKpis = ({ figures: k, filter, set }: { figures: Figures | null; filter: StationFilter; set: (patch: UrlPatch<FilterKey>) => void }) => {
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

/** Every charge station, live: figures, filters in the URL, a table windowed over the console's live view, bulk commands. */
export const StationsView = () => {
  const { can } = useMe();
  const canCommand = can("charging.command");
  const health = useLiveHealth();
  const link = health.links.find((l) => l.id === "charging");
  const url = useUrlState(FILTERS);
  const sortParam = useUrlState(["sort"]).values.sort;
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());

  const { q, online, status, protocol } = url.values;
  const filter: StationFilter = useMemo(
    () => ({ q: q || undefined, online: parseBool(online), status: oneOf(CONNECTOR_STATUSES, status), protocol: oneOf(PROTOCOLS, protocol) }),
    [q, online, status, protocol],
  );
  const table = useStationsWindow(filter, sortParam);
  const { rows, figures } = table;

  // What the selected stations looked like when last seen, to say how many the filters hide.
  const [known] = useState(() => new Map<string, StationView>());
  for (const s of rows) if (selected.has(s.id)) known.set(s.id, s);
  const selectedIds = useMemo(() => [...selected].sort(), [selected]);
  const hidden = selectedIds.filter((id) => {
    const s = known.get(id);
    return s !== undefined && !matchesStationFilter(s, filter);
  }).length;

  return (
    <>
      <PageHeader
        title="Charging"
        description="Every charge station, live from the CSMS."
        actions={
          <span className="status-line">
            {link ? <LinkBadge state={link.state} /> : null}
            <LiveIndicator state={table.query.isError ? "reconnecting" : table.query.data ? "live" : "connecting"} />
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
        <FleetKpis figures={figures} filter={filter} set={url.set} />
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

      {canCommand ? <SelectionBar ids={selectedIds} hidden={hidden} noun={["station", "stations"]} onClear={() => setSelected(new Set())} /> : null}

      <DataTable
        label="Stations"
        columns={STATION_COLUMNS}
        rows={rows}
        rowId={(s) => s.id}
        rowHref={(s) => `/charging/${encodeURIComponent(s.id)}`}
        rowAttrs={(s) => ({ "data-testid": `station-row-${s.id}`, "data-online": s.online })}
        status={{ loading: table.query.isPending, error: table.query.error, retry: () => void table.query.refetch() }}
        noun="stations"
        empty={url.any ? { title: "No station matches these filters", hint: "Try other filters." } : { title: "No stations yet", hint: "Stations appear here as soon as they are registered with the CSMS." }}
        virtual={{ rowHeight: 37 }}
        windowed={{ total: table.total, offset: table.offset, onRange: table.onRange }}
        selection={canCommand ? { selected, onChange: setSelected, max: MAX_SELECTION, name: (id) => id } : undefined}
        foot={
          <span data-testid="stations-count">
            {table.total} of {figures?.totalStations ?? "…"} {figures?.totalStations === 1 ? "station" : "stations"} shown
            {canCommand && selected.size ? ` · ${selected.size} selected` : ""}
            {table.liveState === "reconnecting" ? " · live updates paused; reconnecting…" : ""}
          </span>
        }
        testId="stations-table"
        emptyTestId="stations-empty"
      />
    </>
  );
};
