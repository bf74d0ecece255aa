"use client";

import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useDeferredValue, useMemo, useRef, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { computeKpis } from "@/contracts/csms/kpis";
import { matchesStationFilter, type StationFilter } from "@/contracts/csms/station-filter";
import { CONNECTOR_STATUSES, type ProtocolVersion, type StationView } from "@/contracts/csms";
import { LinkBadge, LiveIndicator } from "../_components/badges";
import { formatAge, formatDateTime } from "../_components/format";
import { useLiveHealth } from "../_components/live-health";
import { useMe } from "../_components/session";
import { useCommandFeed } from "../_components/use-command-feed";
import { useNow } from "../_components/use-now";
import { BulkPanel } from "./_components/bulk-panel";
import { ChargingNav } from "./_components/charging-nav";
import { ConnectorStrip, formatKw, formatKwh, OnlineBadge, PROTOCOL_LABELS } from "./_components/station-badges";
import { useLiveStations } from "./_components/use-live-stations";

const ROW_HEIGHT = 37;
const MAX_SELECTION = 5000;
const byId = (a: StationView, b: StationView) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const Kpis = ({ stations }: { stations: ReadonlyMap<string, StationView> | null }) => {
  const trpc = useTRPC();
  // Until the live feed arrives, the server's figures; afterwards computed from the feed.
  const query = useQuery(trpc.charging.kpis.queryOptions(undefined, { enabled: stations === null, refetchInterval: 10_000 }));
  const live = useMemo(() => (stations ? computeKpis(stations.values()) : null), [stations]);
  const k = live ?? query.data ?? null;
  const tile = (id: string, label: string, value: string | number, note?: string, tone?: string) => (
    <div className="tile" data-testid={`kpi-${id}`}>
      <div className="tile-note">{label}</div>
      <div className="tile-value" style={tone ? { color: tone } : undefined} data-value={value}>
        {value}
      </div>
      {note ? <div className="tile-note">{note}</div> : null}
    </div>
  );
  const cs = k?.connectorStatus ?? {};
  return (
    <div className="tiles" data-testid="kpis">
      {tile("stations", "Stations", k?.totalStations ?? "—", k ? `${k.byProtocol["ocpp1.6"] ?? 0} × 1.6J, ${k.byProtocol["ocpp2.0.1"] ?? 0} × 2.0.1` : undefined)}
      {tile("online", "Online", k?.online ?? "—", k ? `${k.offline} offline` : undefined)}
      {tile("offline", "Offline", k?.offline ?? "—", undefined, k?.offline ? "var(--danger)" : undefined)}
      {tile("sessions", "Active sessions", k?.activeSessions ?? "—", k ? `${formatKw(k.powerW)} now` : undefined)}
      {tile("energy", "Energy today", k ? formatKwh(k.energyTodayWh) : "—")}
      {tile(
        "connectors",
        "Connectors",
        k?.totalConnectors ?? "—",
        k
          ? Object.entries(cs)
              .sort((a, b) => b[1] - a[1])
              .map(([s, n]) => `${n} ${s}`)
              .join(" · ") || "none"
          : undefined,
      )}
    </div>
  );
};

export const StationsView = () => {
  const router = useRouter();
  const { can } = useMe();
  const canCommand = can("charging.command");
  const live = useLiveStations();
  const health = useLiveHealth();
  const feed = useCommandFeed(canCommand);
  const now = useNow(5000);
  const link = health.links.find((l) => l.id === "charging");

  const [q, setQ] = useState("");
  const [online, setOnline] = useState("");
  const [status, setStatus] = useState("");
  const [protocol, setProtocol] = useState("");
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());

  const filter: StationFilter = useMemo(
    () => ({
      q: q.trim() || undefined,
      online: online === "" ? undefined : online === "true",
      status: status || undefined,
      protocol: (protocol || undefined) as ProtocolVersion | undefined,
    }),
    [q, online, status, protocol],
  );
  const deferredFilter = useDeferredValue(filter);
  const deferredStations = useDeferredValue(live.stations);
  const rows = useMemo(() => [...deferredStations.values()].filter((s) => matchesStationFilter(s, deferredFilter)).sort(byId), [deferredStations, deferredFilter]);

  const scrollRef = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;

  const filtered = Boolean(filter.q || filter.online !== undefined || filter.status || filter.protocol);
  const toggle = (id: string, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const allShownSelected = rows.length > 0 && rows.length <= MAX_SELECTION && rows.every((r) => selected.has(r.id));
  const selectShown = (on: boolean) => setSelected(on ? new Set(rows.slice(0, MAX_SELECTION).map((r) => r.id)) : new Set());
  const selectedIds = useMemo(() => [...selected].sort(), [selected]);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Charging</h1>
          <p>Every charge station, live from the CSMS.</p>
        </div>
        <span className="status-line">
          {link ? <LinkBadge state={link.state} /> : null}
          <LiveIndicator state={live.state} />
        </span>
      </div>
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
        <Kpis stations={live.received ? live.stations : null} />
      </section>

      {canCommand && selectedIds.length > 0 ? (
        <section className="section" aria-label="Bulk command">
          <BulkPanel stationIds={selectedIds} commands={feed.commands} onClear={() => setSelected(new Set())} />
        </section>
      ) : null}

      <form className="filters" role="search" aria-label="Filter stations" onSubmit={(e) => e.preventDefault()}>
        <div className="field wide">
          <label htmlFor="st-q">Station id</label>
          <input id="st-q" className="input" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Search…" data-testid="filter-q" />
        </div>
        <div className="field">
          <label htmlFor="st-online">Connection</label>
          <select id="st-online" className="select" value={online} onChange={(e) => setOnline(e.target.value)} data-testid="filter-online">
            <option value="">Online and offline</option>
            <option value="true">Online</option>
            <option value="false">Offline</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="st-status">Connector status</label>
          <select id="st-status" className="select" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="filter-status">
            <option value="">Any status</option>
            {CONNECTOR_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="st-protocol">OCPP version</label>
          <select id="st-protocol" className="select" value={protocol} onChange={(e) => setProtocol(e.target.value)} data-testid="filter-protocol">
            <option value="">Any version</option>
            <option value="ocpp1.6">1.6J</option>
            <option value="ocpp2.0.1">2.0.1</option>
          </select>
        </div>
        {filtered ? (
          <div className="actions">
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setQ("");
                setOnline("");
                setStatus("");
                setProtocol("");
              }}
            >
              Clear filters
            </button>
          </div>
        ) : null}
      </form>

      <div className="table-wrap vscroll" ref={scrollRef} data-testid="stations-scroll">
        {!live.received ? (
          <div className="empty">Loading stations…</div>
        ) : rows.length === 0 ? (
          <div className="empty" data-testid="stations-empty">
            <strong>{filtered ? "No station matches these filters" : "No stations yet"}</strong>
            {filtered ? "Try other filters." : "Stations appear here as soon as they are registered with the CSMS."}
          </div>
        ) : (
          <table className="data" data-testid="stations-table" aria-rowcount={rows.length}>
            <thead>
              <tr>
                {canCommand ? (
                  <th scope="col" style={{ width: 32 }}>
                    <input
                      type="checkbox"
                      aria-label={rows.length > MAX_SELECTION ? `Select the first ${MAX_SELECTION} shown` : "Select every station shown"}
                      checked={allShownSelected}
                      onChange={(e) => selectShown(e.target.checked)}
                      data-testid="select-all"
                    />
                  </th>
                ) : null}
                <th scope="col">Station</th>
                <th scope="col">Connection</th>
                <th scope="col">Protocol</th>
                <th scope="col">Connectors</th>
                <th scope="col">Sessions</th>
                <th scope="col">Power</th>
                <th scope="col">Energy today</th>
                <th scope="col">Last seen</th>
                <th scope="col">Model</th>
              </tr>
            </thead>
            <tbody>
              {paddingTop > 0 ? (
                <tr className="spacer-row" aria-hidden="true">
                  <td style={{ height: paddingTop }} colSpan={10} />
                </tr>
              ) : null}
              {items.map((item) => {
                const s = rows[item.index]!;
                const isSelected = selected.has(s.id);
                return (
                  <tr
                    key={s.id}
                    style={{ height: ROW_HEIGHT }}
                    data-testid={`station-row-${s.id}`}
                    data-online={s.online}
                    data-selected={isSelected}
                    aria-rowindex={item.index + 2}
                    onClick={(e) => {
                      if ((e.target as HTMLElement).closest("a,input,button")) return;
                      router.push(`/charging/${encodeURIComponent(s.id)}`);
                    }}
                  >
                    {canCommand ? (
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select ${s.id}`}
                          checked={isSelected}
                          onChange={(e) => toggle(s.id, e.target.checked)}
                          disabled={!isSelected && selected.size >= MAX_SELECTION}
                          data-testid={`select-${s.id}`}
                        />
                      </td>
                    ) : null}
                    <td className="mono">
                      <Link href={`/charging/${encodeURIComponent(s.id)}`}>{s.id}</Link>
                    </td>
                    <td>
                      <OnlineBadge online={s.online} />
                    </td>
                    <td>{s.protocol ? PROTOCOL_LABELS[s.protocol] : "—"}</td>
                    <td>
                      <ConnectorStrip station={s} />
                    </td>
                    <td className="num">{s.activeTransactionIds.length || "—"}</td>
                    <td className="num">{formatKw(s.powerW)}</td>
                    <td className="num">{formatKwh(s.energyTodayWh)}</td>
                    <td className="num" title={formatDateTime(s.lastSeenAt)}>
                      {s.lastSeenAt ? `${formatAge(now - new Date(s.lastSeenAt).getTime())} ago` : "never"}
                    </td>
                    <td className="truncate">{[s.vendor, s.model].filter(Boolean).join(" ") || "—"}</td>
                  </tr>
                );
              })}
              {paddingBottom > 0 ? (
                <tr className="spacer-row" aria-hidden="true">
                  <td style={{ height: paddingBottom }} colSpan={10} />
                </tr>
              ) : null}
            </tbody>
          </table>
        )}
      </div>
      <div className="table-foot">
        <span data-testid="stations-count">
          {rows.length} of {live.stations.size} {live.stations.size === 1 ? "station" : "stations"} shown
          {canCommand && selected.size ? ` · ${selected.size} selected` : ""}
        </span>
        {live.state === "reconnecting" ? <span>Live updates paused; reconnecting…</span> : null}
      </div>
    </>
  );
};
