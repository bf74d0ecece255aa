"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useTRPC, useTRPCClient, type RouterOutputs } from "@/app/_trpc/client";
import { OutcomeBadge } from "../_components/badges";
import { describeError, formatDateTime, summarize } from "../_components/format";
import { useMe } from "../_components/session";
import { CsvExportButton, CsvExportStatus, useCsvExport } from "../_components/ui/csv-export";
import { DataTable } from "../_components/ui/data-table";
import { FilterBar, SelectFilter, TextFilter } from "../_components/ui/filters";
import { formErrors } from "../_components/ui/messages";
import { PageHeader } from "../_components/ui/page-header";
import { oneOf, useUrlState } from "../_components/ui/url-state";

type Entry = RouterOutputs["audit"]["list"]["items"][number];

const OUTCOMES = ["ok", "error", "denied"] as const;
const FILTERS = ["actor", "action", "outcome", "from", "to"] as const;

/** datetime-local text → a Date; "to 14:05" means up to the end of that minute. */
const localDate = (value: string, endOfMinute = false) => {
  if (!value) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return undefined;
  return endOfMinute && value.length <= 16 ? new Date(d.getTime() + 59_999) : d;
};

const column = createColumnHelper<Entry>();

const COLUMNS = [
  column.accessor((e) => new Date(e.at).getTime(), { id: "at", header: "Time", meta: { className: "nowrap num" }, cell: ({ row }) => formatDateTime(row.original.at) }),
  column.accessor((e) => e.actorEmail ?? "", {
    id: "actor",
    header: "Actor",
    cell: ({ row: { original: e } }) => <span title={e.ip ? `from ${e.ip}` : undefined}>{e.actorEmail ?? <span className="muted">system</span>}</span>,
  }),
  column.accessor((e) => e.actorRole ?? "", { id: "role", header: "Role", cell: ({ getValue }) => getValue() || "—" }),
  column.accessor("action", { header: "Action", meta: { className: "mono" } }),
  column.accessor((e) => e.target ?? "", {
    id: "target",
    header: "Target",
    cell: ({ getValue }) => (
      <span className="clip" style={{ minWidth: 140, maxWidth: 220 }} title={getValue() || undefined}>
        {getValue() || "—"}
      </span>
    ),
  }),
  column.accessor("outcome", { header: "Outcome", cell: ({ getValue }) => <OutcomeBadge outcome={getValue()} /> }),
  column.display({
    id: "error",
    header: "Error",
    cell: ({ row: { original: e } }) =>
      e.error ? (
        <span className="clip" style={{ color: "var(--danger)" }} title={e.error}>
          {describeError(e.error)}
        </span>
      ) : (
        "—"
      ),
  }),
  column.display({
    id: "trace",
    header: "Trace id",
    cell: ({ row: { original: e } }) => (
      <span className="trace truncate" style={{ maxWidth: 120 }} title={e.traceId}>
        {e.traceId}
      </span>
    ),
  }),
  column.display({
    id: "input",
    header: "Input",
    cell: ({ row: { original: e } }) =>
      e.input === null || e.input === undefined ? (
        "—"
      ) : (
        <details>
          <summary>{summarize(e.input, 40)}</summary>
          <pre>{JSON.stringify(e.input, null, 2)}</pre>
        </details>
      ),
  }),
];

/** Every sign-in and every change: filters and the page cursor live in the URL; CSV export. */
export const AuditView = () => {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const { can } = useMe();
  const url = useUrlState([...FILTERS, "cursor"]);
  const { actor, action, from, to, cursor } = url.values;
  const filter = { actor: actor || undefined, action: action || undefined, outcome: oneOf(OUTCOMES, url.values.outcome), from: localDate(from), to: localDate(to, true) };
  const list = useQuery(trpc.audit.list.queryOptions({ filter, cursor: /^\d+$/.test(cursor) ? cursor : null, limit: 50 }, { placeholderData: keepPreviousData }));
  const csv = useCsvExport(() => client.audit.exportCsv.query({ filter }), ["entry", "entries"]);

  const { byField } = formErrors(list.error, { "filter.from": "From", "filter.to": "To" });
  const badFilter = Object.keys(byField).length > 0;
  const filtered = FILTERS.some((k) => url.values[k]);
  const setFilter = (patch: Partial<Record<(typeof FILTERS)[number], string>>) => {
    csv.reset();
    url.set({ ...patch, cursor: null });
  };
  const goTo = (next: string | null) => {
    url.set({ cursor: next }, { push: true });
    window.scrollTo({ top: 0 });
  };
  const rows = badFilter ? [] : (list.data?.items ?? []);
  const total = list.data && !badFilter ? `${list.data.total.toLocaleString()} ${list.data.total === 1 ? "entry matches" : "entries match"}` : "";

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every sign-in and every change, who made it and what came of it."
        actions={can("audit.export") ? <CsvExportButton csv={csv} disabled={badFilter} /> : null}
      />

      <FilterBar
        label="Filter the audit log"
        canClear={filtered}
        onClear={() => {
          csv.reset();
          url.clear();
        }}
      >
        <TextFilter label="Actor email" value={actor} onChange={(v) => setFilter({ actor: v })} placeholder="contains…" size="wide" testId="filter-actor" />
        <TextFilter label="Action prefix" value={action} onChange={(v) => setFilter({ action: v })} placeholder="e.g. admin.users" type="text" testId="filter-action" />
        <SelectFilter
          label="Outcome"
          value={url.values.outcome}
          onChange={(v) => setFilter({ outcome: v })}
          options={[
            { value: "", label: "Any outcome" },
            { value: "ok", label: "OK" },
            { value: "error", label: "Error" },
            { value: "denied", label: "Denied" },
          ]}
          testId="filter-outcome"
        />
        <TextFilter label="From" value={from} onChange={(v) => setFilter({ from: v })} type="datetime-local" size="date" error={byField["filter.from"]} testId="filter-from" delayMs={500} />
        <TextFilter label="To" value={to} onChange={(v) => setFilter({ to: v })} type="datetime-local" size="date" error={byField["filter.to"]} testId="filter-to" delayMs={500} />
      </FilterBar>

      <CsvExportStatus csv={csv} />

      <DataTable
        label="Audit log"
        columns={COLUMNS}
        rows={rows}
        rowId={(e) => String(e.id)}
        rowAttrs={(e) => ({ "data-testid": `audit-row-${e.id}` })}
        status={{ loading: list.isPending, error: badFilter ? null : list.error, retry: () => void list.refetch() }}
        noun="the audit log"
        empty={
          badFilter
            ? { title: "Check the filters", hint: Object.values(byField)[0] }
            : filtered
              ? { title: "Nothing matches these filters", hint: "Widen the time range or clear a filter." }
              : cursor
                ? { title: "No older entries" }
                : { title: "The audit log is empty" }
        }
        foot={
          <span data-testid="audit-total">
            {total}
            {cursor ? " · showing older entries" : ""}
            {rows.length ? ` · ${rows.length} on this page` : ""}
          </span>
        }
        paging={{
          kind: "pages",
          label: "Audit log pages",
          prev: cursor ? { label: "Back to newest", onClick: () => goTo(null), testId: "back-to-newest" } : undefined,
          next: list.data?.nextCursor && !badFilter ? { label: "Next page", onClick: () => goTo(list.data.nextCursor), testId: "next-page" } : undefined,
        }}
        testId="audit-table"
        emptyTestId={badFilter ? "audit-bad-filter" : "audit-empty"}
      />
    </>
  );
};
