"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo } from "react";
import type { AlarmView } from "@/contracts/monitoring";
import { formatDateTime, formatTimeShort } from "../../_components/format";
import { useMe } from "../../_components/session";
import { DataTable, type Paging, type TableStatus } from "../../_components/ui/data-table";
import { AlarmActions } from "./alarm-actions";
import { ALARM_TYPE_LABELS, AlarmStatusBadge, deviceHref, SeverityBadge, siteHref } from "./monitoring-badges";

const column = createColumnHelper<AlarmView>();

const alarmColumns = ({ withSite, canAct }: { withSite: boolean; canAct: boolean }) => [
  column.accessor("severity", { header: "Severity", cell: ({ getValue }) => <SeverityBadge severity={getValue()} /> }),
  column.accessor("type", {
    header: "Alarm",
    cell: ({ row: { original: a } }) => (
      <span style={{ display: "block", minWidth: 200, maxWidth: 340 }}>
        <strong>{ALARM_TYPE_LABELS[a.type]}</strong>
        <span className="muted" style={{ display: "block" }}>
          {a.message}
        </span>
      </span>
    ),
  }),
  column.accessor("device", {
    header: withSite ? "Where" : "Device",
    cell: ({ row: { original: a } }) => (
      <span className="nowrap" style={{ display: "block" }}>
        <Link href={deviceHref(a.region, a.device)} className="mono">
          {a.device}
        </Link>
        {withSite ? (
          <span className="muted" style={{ display: "block" }}>
            <Link href={siteHref(a.region, a.site)}>{a.site}</Link> · {a.region}
          </span>
        ) : null}
      </span>
    ),
  }),
  column.accessor("status", { header: "Status", cell: ({ row: { original: a } }) => <AlarmStatusBadge alarm={a} /> }),
  column.accessor((a) => new Date(a.createdAt).getTime(), { id: "raised", header: "Raised", meta: { className: "num nowrap" }, cell: ({ row: { original: a } }) => <span title={formatDateTime(a.createdAt)}>{formatTimeShort(a.createdAt)}</span> }),
  column.display({
    id: "by",
    header: "Handled by",
    cell: ({ row: { original: a } }) => {
      const lines = [a.acknowledgedBy && `Acknowledged by ${a.acknowledgedBy}${a.ackComment ? `: “${a.ackComment}”` : ""}`, a.clearedBy && `Cleared by ${a.clearedBy}${a.clearComment ? `: “${a.clearComment}”` : ""}`].filter(Boolean);
      return lines.length ? (
        <span className="muted" style={{ display: "block", maxWidth: 240 }} data-testid={`alarm-by-${a.id}`}>
          {lines.map((l) => (
            <span key={l as string} style={{ display: "block" }}>
              {l}
            </span>
          ))}
        </span>
      ) : (
        "—"
      );
    },
  }),
  ...(canAct ? [column.display({ id: "actions", header: "Actions", meta: { srOnly: true }, cell: ({ row: { original: a } }) => <AlarmActions alarm={a} /> })] : []),
];

type AlarmTableProps = {
  label: string;
  alarms: readonly AlarmView[];
  status: TableStatus;
  /** Region and site columns (the alarm list); left out on a site's or device's page. */
  withSite?: boolean;
  empty: { title: string; hint?: string };
  paging?: Paging;
  foot?: React.ReactNode;
  sortParam?: string | false;
  testId?: string;
};

/** Alarms in a table: severity, what, where, status, who acted, and acknowledge / clear for roles that may. */
export const AlarmTable = ({ label, alarms, status, withSite = false, empty, paging, foot, sortParam = "alarmSort", testId = "alarms-table" }: AlarmTableProps) => {
  const { can } = useMe();
  const canAct = can("monitoring.command");
  const columns = useMemo(() => alarmColumns({ withSite, canAct }), [withSite, canAct]);
  return (
    <DataTable
      label={label}
      columns={columns}
      rows={alarms}
      rowId={(a) => a.id}
      rowAttrs={(a) => ({ "data-testid": `alarm-row-${a.id}`, "data-type": a.type, "data-status": a.status, "data-device": a.device })}
      status={status}
      noun="alarms"
      empty={empty}
      paging={paging}
      foot={foot}
      sortParam={sortParam}
      testId={testId}
      emptyTestId={`${testId}-empty`}
    />
  );
};
