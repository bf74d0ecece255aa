"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { PROBLEM_STATUSES, type CommandStatus, type CommandView } from "@/contracts/console/commands";
import { COMMAND_STATUS_LIST, CommandStatusBadge, commandStatusLabel, LiveIndicator } from "../_components/badges";
import { formatDateTime, formatDuration, formatTimeShort } from "../_components/format";
import { CommandDetailsButton } from "../_components/ui/command-details";
import { useCommandFeed } from "../_components/ui/command-feed";
import { describeCommand } from "../_components/ui/command-outcome";
import { DataTable } from "../_components/ui/data-table";
import { FilterBar, optionsOf, SelectFilter } from "../_components/ui/filters";
import { PageHeader } from "../_components/ui/page-header";
import { nextCursor, usePagedList } from "../_components/ui/paged-list";
import { oneOf, useUrlState } from "../_components/ui/url-state";

const DOMAINS = ["system", "charging", "robots", "flex", "monitoring"] as const;
const FILTERS = ["domain", "status"] as const;

/** `?status=problems` (the Overview's failed tile links here): every outcome that did not go through. */
const PROBLEMS = "problems";
const PROBLEMS_LABEL = "Failed, rejected, timed out or offline";
const isProblem = (s: CommandStatus) => (PROBLEM_STATUSES as readonly CommandStatus[]).includes(s);

const newestFirst = (a: CommandView, b: CommandView) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);

const took = (c: CommandView) => (c.completedAt ? c.completedAt.getTime() - c.createdAt.getTime() : null);

const column = createColumnHelper<CommandView>();

const COLUMNS = [
  column.accessor((c) => c.createdAt.getTime(), {
    id: "created",
    header: "Created",
    meta: { className: "nowrap num" },
    cell: ({ row: { original: c } }) => <span title={formatDateTime(c.createdAt)}>{formatTimeShort(c.createdAt)}</span>,
  }),
  column.accessor("domain", { header: "Domain" }),
  column.accessor("target", { header: "Target", meta: { className: "mono" } }),
  column.accessor("action", { header: "Action" }),
  column.accessor("status", { header: "Status", cell: ({ getValue }) => <CommandStatusBadge status={getValue()} /> }),
  column.accessor("actorEmail", { header: "Actor" }),
  column.accessor(took, {
    id: "took",
    header: "Took",
    meta: { className: "nowrap num" },
    sortUndefined: "last",
    cell: ({ row: { original: c }, getValue }) => <span title={c.completedAt ? `Completed ${formatDateTime(c.completedAt)}` : undefined}>{formatDuration(getValue())}</span>,
  }),
  column.display({
    id: "outcome",
    header: "Outcome",
    cell: ({ row: { original: c } }) => {
      const outcome = describeCommand(c);
      // The status column already says "Accepted"; only say more when there is more.
      if (outcome.text === commandStatusLabel(c.status)) return <span className="muted">—</span>;
      return (
        <span className="clip" style={outcome.tone === "danger" ? { color: "var(--danger)" } : undefined} title={c.error ?? undefined}>
          {outcome.text}
        </span>
      );
    },
  }),
  column.display({ id: "details", header: "Details", meta: { srOnly: true }, cell: ({ row: { original: c } }) => <CommandDetailsButton command={c} /> }),
  column.accessor("traceId", { header: "Trace id", enableSorting: false, cell: ({ getValue }) => <span className="trace" title={getValue()}>{getValue().slice(0, 12)}</span> }),
];

/** Every control action from request to outcome; statuses follow the live command feed. */
export const CommandsView = () => {
  const trpc = useTRPC();
  const url = useUrlState(FILTERS);
  const domain = url.values.domain || undefined;
  const problems = url.values.status === PROBLEMS;
  const status = oneOf(COMMAND_STATUS_LIST, url.values.status);
  const [mountedAt] = useState(() => Date.now());
  const query = useInfiniteQuery(trpc.commands.list.infiniteQueryOptions({ domain, status, problems: problems || undefined, limit: 50 }, { getNextPageParam: nextCursor }));
  const list = usePagedList(query);
  const feed = useCommandFeed();

  const { rows, loadedIds } = useMemo(() => {
    const loaded = list.rows;
    const loadedIds = new Set(loaded.map((c) => c.id));
    const oldest = loaded.at(-1)?.createdAt.getTime();
    const matches = (c: CommandView) => (!domain || c.domain === domain) && (!status || c.status === status) && (!problems || isProblem(c.status));
    const byId = new Map<string, CommandView>();
    for (const c of loaded) byId.set(c.id, feed.commands.get(c.id) ?? c);
    if (list.loaded) {
      // Live commands join the list only where it is complete: newer than the oldest loaded
      // row, or anywhere once every page is loaded. Older ones arrive with "Load more".
      for (const c of feed.commands.values()) {
        if (byId.has(c.id)) continue;
        if (query.hasNextPage && oldest !== undefined && c.createdAt.getTime() < oldest) continue;
        byId.set(c.id, c);
      }
    }
    return { rows: [...byId.values()].filter(matches).sort(newestFirst), loadedIds };
  }, [list.rows, list.loaded, query.hasNextPage, feed.commands, domain, status, problems]);

  return (
    <>
      <PageHeader title="Commands" description="Every control action, from request to outcome. Statuses update live." actions={<LiveIndicator state={feed.state} />} />

      <FilterBar label="Filter commands" onClear={url.clear} canClear={url.any}>
        <SelectFilter label="Domain" value={domain ?? ""} onChange={(d) => url.set({ domain: d })} options={optionsOf("All domains", DOMAINS)} testId="filter-domain" />
        <SelectFilter
          label="Status"
          value={problems ? PROBLEMS : (status ?? "")}
          onChange={(s) => url.set({ status: s })}
          options={[...optionsOf("All statuses", COMMAND_STATUS_LIST, commandStatusLabel), { value: PROBLEMS, label: PROBLEMS_LABEL }]}
          testId="filter-status"
        />
      </FilterBar>

      <DataTable
        label="Commands"
        columns={COLUMNS}
        rows={rows}
        rowId={(c) => c.id}
        rowAttrs={(c) => ({ "data-testid": `command-row-${c.id}`, "data-status": c.status, className: !loadedIds.has(c.id) && c.createdAt.getTime() > mountedAt ? "row-new" : undefined })}
        status={list.status}
        noun="commands"
        empty={url.any ? { title: "No commands match these filters", hint: "Try another domain or status." } : { title: "No commands yet", hint: "Commands appear here as soon as someone sends one." }}
        foot={`${rows.length} ${rows.length === 1 ? "command" : "commands"} shown${list.loaded && !query.hasNextPage && rows.length ? " · that is everything" : ""}`}
        paging={list.paging}
        testId="commands-table"
        emptyTestId="commands-empty"
      />
    </>
  );
};
