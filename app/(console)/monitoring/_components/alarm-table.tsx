"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo } from "react";
import type { AlarmView } from "@/contracts/monitoring";
import { formatDateTime } from "../../_components/format";
import { useMe } from "../../_components/session";
import { DataTable, type Paging, type TableStatus } from "../../_components/ui/data-table";
import { AlarmActions } from "./alarm-actions";
import { ALARM_TYPE_LABELS, AlarmStatusBadge, deviceHref, SeverityBadge, siteHref } from "./monitoring-badges";

const column = createColumnHelper<AlarmView>();

const alarmColumns = ({ withSite, canAct }: { withSite: boolean; canAct: boolean }) => [
  column.accessor("severity", { header: "Severity", cell: ({ getValue }) => <SeverityBadge severity={getValue()} /> }),
  column.accessor("type", { header: "Alarm", cell: ({ row: { original: a } }) => <span title={a.message}>{ALARM_TYPE_LABELS[a.type]}</span> }),
  column.accessor("message", { header: "What", meta: { className: "truncate" } }),
  ...(withSite
    ? [
        column.accessor("region", { header: "Region", meta: { className: "mono" } }),
        column.accessor("site", { header: "Site", cell: ({ row: { original: a } }) => <Link href={siteHref(a.region, a.site)}>{a.site}</Link> }),
      ]
    : []),
  column.accessor("device", { header: "Device", meta: { className: "mono" }, cell: ({ row: { original: a } }) => <Link href={deviceHref(a.region, a.device)}>{a.device}</Link> }),
  column.accessor("status", { header: "Status", cell: ({ row: { original: a } }) => <AlarmStatusBadge alarm={a} /> }),
  column.accessor((a) => new Date(a.createdAt).getTime(), { id: "raised", header: "Raised", meta: { className: "num nowrap" }, cell: ({ row: { original: a } }) => formatDateTime(a.createdAt) }),
  column.display({
    id: "by",
    header: "Acknowledged / cleared by",
    cell: ({ row: { original: a } }) => (
      <span className="muted" title={[a.ackComment, a.clearComment].filter(Boolean).join(" · ") || undefined}>
        {[a.acknowledgedBy && `ack ${a.acknowledgedBy}`, a.clearedBy && `cleared ${a.clearedBy}`].filter(Boolean).join(", ") || "—"}
      </span>
    ),
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
