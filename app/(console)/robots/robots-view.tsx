"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo, useState } from "react";
import type { DoorView, LiftView, RobotView } from "@/server/connectors/rmf";
import { formatAge, formatDateTime, summarize } from "../_components/format";
import { useMe } from "../_components/session";
import { Card } from "../_components/ui/card";
import { DataTable } from "../_components/ui/data-table";
import { KpiTiles, type Kpi } from "../_components/ui/kpi-tiles";
import { PageHeader } from "../_components/ui/page-header";
import { useUrlState } from "../_components/ui/url-state";
import { useNow } from "../_components/use-now";
import { BuildingMapView, type MapSelection } from "./_components/building-map";
import { DoorControls, LiftControls } from "./_components/device-controls";
import { DispatchButton } from "./_components/dispatch-dialog";
import { RmfLinkAlerts, RmfStatusLine } from "./_components/link-alerts";
import { describeLift, DoorBadge, formatBattery, RobotStatusBadge } from "./_components/robot-badges";
import { RobotsNav } from "./_components/robots-nav";
import { useRobotsSite } from "./_components/robots-site";
import { useRobotFeed } from "./_components/use-robots";

const issuesText = (r: RobotView) => (r.issues ?? []).map((i) => [i.category, typeof i.detail === "string" ? i.detail : i.detail ? summarize(i.detail, 40) : ""].filter(Boolean).join(": ")).join("; ");
const taskLink = (taskId: string | null) => (taskId ? <Link href={`/robots/tasks/${encodeURIComponent(taskId)}`} className="mono">{taskId}</Link> : "—");

const robotColumn = createColumnHelper<RobotView>();
const robotColumns = (now: number) => [
  robotColumn.accessor("name", { header: "Robot", meta: { className: "mono" } }),
  robotColumn.accessor("fleet", { header: "Fleet" }),
  robotColumn.accessor((r) => r.status ?? "", { id: "status", header: "Status", cell: ({ row }) => <RobotStatusBadge status={row.original.status} /> }),
  robotColumn.accessor((r) => r.battery ?? undefined, { id: "battery", header: "Battery", meta: { className: "num" }, sortUndefined: "last", cell: ({ row }) => formatBattery(row.original.battery) }),
  robotColumn.accessor((r) => r.location?.map ?? "", { id: "level", header: "Level", cell: ({ getValue }) => getValue() || "—" }),
  robotColumn.accessor((r) => r.task_id ?? "", { id: "task", header: "Task", meta: { className: "truncate" }, cell: ({ row }) => taskLink(row.original.task_id) }),
  robotColumn.accessor((r) => r.unix_millis_time ?? undefined, {
    id: "updated",
    header: "Last update",
    meta: { className: "num" },
    sortUndefined: "last",
    cell: ({ getValue }) => {
      const at = getValue() as number | undefined;
      return <span title={formatDateTime(at)}>{at ? `${formatAge(Math.max(0, now - at))} ago` : "never"}</span>;
    },
  }),
  robotColumn.accessor(issuesText, { id: "issues", header: "Issues", meta: { className: "truncate" }, cell: ({ getValue }) => (getValue() ? <span className="badge badge-warn">{getValue()}</span> : "—") }),
];

const SelectionPanel = ({ selection, robots, doors, lifts, canCommand }: { selection: MapSelection | null; robots: ReadonlyMap<string, RobotView>; doors: ReadonlyMap<string, DoorView>; lifts: ReadonlyMap<string, LiftView>; canCommand: boolean }) => {
  if (!selection) return <p className="muted">Select a robot, a door or a lift on the map for its details{canCommand ? " and controls" : ""}.</p>;
  if (selection.kind === "robot") {
    const r = robots.get(selection.name);
    if (!r) return <p className="muted">That robot is no longer reported.</p>;
    return (
      <div data-testid="selected-robot">
        <h3>Robot {r.name}</h3>
        <dl className="kv">
          <dt>Fleet</dt>
          <dd>{r.fleet}</dd>
          <dt>Status</dt>
          <dd>
            <RobotStatusBadge status={r.status} />
          </dd>
          <dt>Battery</dt>
          <dd>{formatBattery(r.battery)}</dd>
          <dt>Where</dt>
          <dd>{r.location ? `${r.location.map} (${r.location.x.toFixed(1)}, ${r.location.y.toFixed(1)})` : "unknown"}</dd>
          <dt>Task</dt>
          <dd>{taskLink(r.task_id)}</dd>
          <dt>Issues</dt>
          <dd>{issuesText(r) || "none"}</dd>
        </dl>
      </div>
    );
  }
  if (selection.kind === "door") {
    const d = doors.get(selection.name);
    if (!d) return <p className="muted">That door is not known to RMF.</p>;
    return (
      <div data-testid="selected-door">
        <h3>Door {d.name}</h3>
        <dl className="kv">
          <dt>State</dt>
          <dd>
            <DoorBadge state={d.state} />
          </dd>
          <dt>Level</dt>
          <dd>{d.level ?? "—"}</dd>
        </dl>
        {canCommand ? <DoorControls door={d} /> : null}
      </div>
    );
  }
  const l = lifts.get(selection.name);
  if (!l) return <p className="muted">That lift is not known to RMF.</p>;
  return (
    <div data-testid="selected-lift">
      <h3>Lift {l.name}</h3>
      <p>{describeLift(l.state)}</p>
      {canCommand ? <LiftControls lift={l} /> : null}
    </div>
  );
};

const LEGEND = [
  ["Working", "var(--ok-dot)"],
  ["Idle", "#5b6b84"],
  ["Charging", "#0e7490"],
  ["Error", "var(--danger-dot)"],
  ["Door open", "#1f9d4e"],
  ["Door closed", "#d93a2f"],
  ["Lift here", "#2458d3"],
] as const;

/** The building per level with robots moving live, doors and lifts by state, and the robots table. */
export const RobotsView = () => {
  const { can } = useMe();
  const canCommand = can("robots.command");
  const feed = useRobotFeed();
  const live = useRobotsSite();
  const doors = { items: live.doors, received: live.received };
  const lifts = { items: live.lifts, received: live.received };
  const now = useNow(2000);
  const url = useUrlState(["level"] as const);
  const [selection, setSelection] = useState<MapSelection | null>(null);
  const levels = live.map?.levels.map((l) => l.name) ?? [];
  const level = levels.includes(url.values.level) ? url.values.level : (levels[0] ?? "");
  const rows = useMemo(() => [...feed.table.values()], [feed.table]);
  const columns = useMemo(() => robotColumns(now), [now]);
  const robots = [...feed.table.values()];
  const kpis: Kpi[] = [
    { id: "robots", label: "Robots", value: feed.received ? robots.length : "—" },
    { id: "working", label: "Working", value: feed.received ? robots.filter((r) => r.status === "working").length : "—" },
    { id: "charging", label: "Charging", value: feed.received ? robots.filter((r) => r.status === "charging").length : "—" },
    { id: "issues", label: "With issues", value: feed.received ? robots.filter((r) => (r.issues ?? []).length > 0).length : "—", tone: robots.some((r) => (r.issues ?? []).length > 0) ? "danger" : undefined },
    { id: "low", label: "Battery under 20 %", value: feed.received ? robots.filter((r) => (r.battery ?? 1) < 0.2).length : "—" },
  ];

  return (
    <>
      <PageHeader title="Robots" description="Fleets, doors and lifts, live from Open-RMF." actions={<><RmfStatusLine state={feed.state} />{canCommand ? <DispatchButton /> : null}</>} />
      <RobotsNav />
      <RmfLinkAlerts />
      <section className="section" aria-label="Fleet figures">
        <KpiTiles items={kpis} label="Fleet figures" testId="robot-kpis" />
      </section>

      <section className="section card" aria-label="Building map">
        <div className="card-body">
          {live.map ? (
            <>
              <div className="level-tabs" role="group" aria-label="Level">
                {levels.map((l) => (
                  <button key={l} type="button" className={`btn btn-sm ${l === level ? "btn-primary" : ""}`} aria-pressed={l === level} onClick={() => url.set({ level: l })} data-testid={`level-${l}`}>
                    {l}
                  </button>
                ))}
              </div>
              <div className="map-layout">
                <div>
                  <BuildingMapView map={live.map} level={level} listen={feed.listen} doors={doors.items} lifts={lifts.items} selected={selection} onSelect={setSelection} />
                  <div className="map-legend" aria-hidden="true">
                    {LEGEND.map(([label, colour]) => (
                      <span key={label}>
                        <i style={{ background: colour }} />
                        {label}
                      </span>
                    ))}
                  </div>
                </div>
                <aside aria-label="Selection" aria-live="polite">
                  <SelectionPanel selection={selection} robots={feed.table} doors={doors.items} lifts={lifts.items} canCommand={canCommand} />
                </aside>
              </div>
            </>
          ) : (
            <div className="empty" role="status">
              {live.received ? <strong>No building map yet</strong> : "Loading the building map…"}
              {live.received ? "The map appears as soon as RMF publishes one." : null}
            </div>
          )}
        </div>
      </section>

      <section className="section" aria-label="Robots">
        <DataTable
          label="Robots"
          columns={columns}
          rows={rows}
          rowId={(r) => r.key}
          rowAttrs={(r) => ({ "data-testid": `robot-row-${r.name}`, "data-status": r.status ?? "unknown" })}
          status={{ loading: !feed.received }}
          noun="robots"
          empty={{ title: "No robots yet", hint: "Robots appear here as soon as a fleet adapter reports them to RMF." }}
          virtual={{ rowHeight: 37 }}
          foot={<span>{rows.length} {rows.length === 1 ? "robot" : "robots"} · positions on the map update with every report; this table refreshes every second</span>}
          testId="robots-table"
        />
      </section>

      <section className="section grid-2" aria-label="Doors and lifts">
        <Card title="Doors">
          {doors.items.size === 0 ? (
            <p className="muted">{doors.received ? "No doors on this site." : "Loading doors…"}</p>
          ) : (
            <dl className="kv">
              {[...doors.items.values()].map((d) => (
                <div key={d.name} style={{ display: "contents" }} data-testid={`door-${d.name}`}>
                  <dt>
                    {d.name} <span className="muted">{d.level ?? ""}</span>
                  </dt>
                  <dd>
                    <DoorBadge state={d.state} /> {canCommand ? <DoorControls door={d} /> : null}
                  </dd>
                </div>
              ))}
            </dl>
          )}
        </Card>
        <Card title="Lifts">
          {lifts.items.size === 0 ? (
            <p className="muted">{lifts.received ? "No lifts on this site." : "Loading lifts…"}</p>
          ) : (
            [...lifts.items.values()].map((l) => (
              <div key={l.name} data-testid={`lift-${l.name}`}>
                <p>
                  <strong>{l.name}</strong> — {describeLift(l.state)}
                </p>
                {canCommand ? <LiftControls lift={l} /> : null}
              </div>
            ))
          )}
        </Card>
      </section>
    </>
  );
};
