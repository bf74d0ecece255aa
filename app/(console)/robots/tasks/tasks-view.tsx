"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useDeferredValue, useMemo } from "react";
import { TASK_STATUSES, type TaskState } from "@/contracts/rmf";
import { formatDateTime, formatDuration } from "../../_components/format";
import { useMe } from "../../_components/session";
import { DataTable } from "../../_components/ui/data-table";
import { FilterBar, optionsOf, SelectFilter, TextFilter } from "../../_components/ui/filters";
import { PageHeader } from "../../_components/ui/page-header";
import { oneOf, useUrlState } from "../../_components/ui/url-state";
import { DispatchButton } from "../_components/dispatch-dialog";
import { RmfLinkAlerts, RmfStatusLine } from "../_components/link-alerts";
import { TASK_STATUS_LABELS, TaskStatusBadge } from "../_components/robot-badges";
import { RmfText } from "../_components/rmf-text";
import { RobotsNav } from "../_components/robots-nav";
import { useLiveTasks } from "../_components/use-robots";

const PAGE_SIZE = 50;
const FILTERS = ["q", "status", "category", "robot", "state", "page"] as const;
const STATES = ["open", "finished"] as const;
const FINISHED = new Set(["failed", "skipped", "canceled", "killed", "completed"]);

const column = createColumnHelper<TaskState>();
const columns = [
  column.accessor((t) => t.booking.id, { id: "id", header: "Task", meta: { className: "mono truncate" }, cell: ({ getValue }) => <Link href={`/robots/tasks/${encodeURIComponent(getValue())}`}>{getValue()}</Link> }),
  column.accessor((t) => t.category ?? "", { id: "category", header: "Category", cell: ({ getValue }) => (getValue() ? <RmfText text={getValue()} /> : "—") }),
  column.accessor((t) => t.status ?? "", { id: "status", header: "Status", cell: ({ row }) => <TaskStatusBadge status={row.original.status} /> }),
  column.accessor((t) => (t.assigned_to ? `${t.assigned_to.group}/${t.assigned_to.name}` : ""), { id: "robot", header: "Robot", cell: ({ getValue }) => getValue() || "not assigned" }),
  column.accessor((t) => t.booking.requester ?? "", { id: "requester", header: "Requester", meta: { className: "truncate" }, cell: ({ getValue }) => getValue() || "—" }),
  column.accessor((t) => t.booking.unix_millis_request_time ?? t.unix_millis_start_time ?? undefined, {
    id: "requested",
    header: "Requested",
    meta: { className: "num" },
    sortUndefined: "last",
    cell: ({ getValue }) => formatDateTime(getValue() as number | undefined),
  }),
  column.accessor((t) => t.unix_millis_finish_time ?? undefined, { id: "finished", header: "Finished", meta: { className: "num" }, sortUndefined: "last", cell: ({ getValue }) => formatDateTime(getValue() as number | undefined) || "—" }),
  column.accessor((t) => t.estimate_millis ?? undefined, { id: "estimate", header: "Remaining", meta: { className: "num" }, sortUndefined: "last", cell: ({ row }) => (FINISHED.has(row.original.status ?? "") ? "—" : formatDuration(row.original.estimate_millis)) }),
];

const newestFirst = (a: TaskState, b: TaskState) => (b.booking.unix_millis_request_time ?? 0) - (a.booking.unix_millis_request_time ?? 0);

/** The task queue, live: filters and page in the URL, newest request first unless a column is sorted. */
export const TasksView = () => {
  const { can } = useMe();
  const live = useLiveTasks();
  const url = useUrlState(FILTERS);
  const { q, status, category, robot, state, page } = url.values;
  const filter = useDeferredValue({ q: q.toLowerCase(), status: oneOf(TASK_STATUSES, status), category, robot: robot.toLowerCase(), state: oneOf(STATES, state) });
  const tasks = useDeferredValue(live.items);
  const matching = useMemo(
    () =>
      [...tasks.values()]
        .filter(
          (t) =>
            (!filter.q || t.booking.id.toLowerCase().includes(filter.q)) &&
            (!filter.status || t.status === filter.status) &&
            (!filter.category || t.category === filter.category) &&
            (!filter.robot || `${t.assigned_to?.group ?? ""}/${t.assigned_to?.name ?? ""}`.toLowerCase().includes(filter.robot)) &&
            (!filter.state || (filter.state === "finished") === FINISHED.has(t.status ?? "")),
        )
        .sort(newestFirst),
    [tasks, filter],
  );
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const current = Math.min(pages, Math.max(1, Number(page) || 1));
  const rows = matching.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);
  const categories = [...new Set([...live.items.values()].map((t) => t.category).filter((c): c is string => Boolean(c)))].sort();

  return (
    <>
      <PageHeader title="Robot tasks" description="Every unfinished task and the newest finished ones, live from Open-RMF." actions={<><RmfStatusLine state={live.state} />{can("robots.command") ? <DispatchButton /> : null}</>} />
      <RobotsNav />
      <RmfLinkAlerts />
      <div className="section">
        <FilterBar label="Filter tasks" onClear={url.clear} canClear={url.any}>
          <TextFilter label="Task id" value={q} onChange={(v) => url.set({ q: v, page: null })} placeholder="Search…" testId="filter-q" />
          <SelectFilter label="State" value={filter.state ?? ""} onChange={(v) => url.set({ state: v, page: null })} options={optionsOf("Open and finished", STATES, (s) => (s === "open" ? "Open" : "Finished"))} testId="filter-state" />
          <SelectFilter label="Status" value={filter.status ?? ""} onChange={(v) => url.set({ status: v, page: null })} options={optionsOf("Any status", TASK_STATUSES, (s) => TASK_STATUS_LABELS[s])} testId="filter-status" />
          <SelectFilter label="Category" value={category} onChange={(v) => url.set({ category: v, page: null })} options={optionsOf("Any category", categories)} testId="filter-category" />
          <TextFilter label="Robot" value={robot} onChange={(v) => url.set({ robot: v, page: null })} placeholder="fleet/robot" testId="filter-robot" />
        </FilterBar>
      </div>
      <DataTable
        label="Tasks"
        columns={columns}
        rows={rows}
        rowId={(t) => t.booking.id}
        rowHref={(t) => `/robots/tasks/${encodeURIComponent(t.booking.id)}`}
        rowAttrs={(t) => ({ "data-testid": `task-row-${t.booking.id}`, "data-status": t.status ?? "unknown" })}
        status={{ loading: !live.received }}
        noun="tasks"
        empty={url.any ? { title: "No task matches these filters", hint: "Try other filters." } : { title: "No tasks yet", hint: "Tasks appear here as soon as they are dispatched." }}
        foot={<span data-testid="tasks-count">{matching.length} of {live.items.size} tasks{pages > 1 ? ` · page ${current} of ${pages}` : ""}</span>}
        paging={
          pages > 1
            ? {
                kind: "pages",
                label: "Task pages",
                prev: current > 1 ? { label: "Previous", onClick: () => url.set({ page: String(current - 1) }), testId: "page-prev" } : undefined,
                next: current < pages ? { label: "Next", onClick: () => url.set({ page: String(current + 1) }), testId: "page-next" } : undefined,
              }
            : undefined
        }
        testId="tasks-table"
      />
    </>
  );
};
