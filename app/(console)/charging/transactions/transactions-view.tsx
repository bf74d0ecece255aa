"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useMemo } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import { stationIdPattern } from "@/contracts/csms/mqtt";
import { formatAge, formatDateTime } from "../../_components/format";
import { DataTable } from "../../_components/ui/data-table";
import { boolOptions, FilterBar, SelectFilter, TextFilter } from "../../_components/ui/filters";
import { PageHeader } from "../../_components/ui/page-header";
import { countText, nextCursor, usePagedList } from "../../_components/ui/paged-list";
import { parseBool, useUrlState } from "../../_components/ui/url-state";
import { useNow } from "../../_components/use-now";
import { ChargingNav } from "../_components/charging-nav";
import { formatKwh } from "../_components/station-badges";

type Transaction = RouterOutputs["charging"]["transactions"]["list"]["items"][number];

const FILTERS = ["stationId", "active"] as const;

const time = (value: Date | string | null | undefined) => (value ? new Date(value).getTime() : undefined);

const column = createColumnHelper<Transaction>();

const transactionColumns = (now: number) => [
  column.accessor((t) => time(t.startedAt), { id: "started", header: "Started", meta: { className: "nowrap num" }, cell: ({ row }) => formatDateTime(row.original.startedAt) }),
  column.accessor("stationId", { header: "Station", meta: { className: "mono" }, cell: ({ getValue }) => <Link href={`/charging/${encodeURIComponent(getValue())}`}>{getValue()}</Link> }),
  column.display({ id: "connector", header: "Connector", cell: ({ row: { original: t } }) => `${t.evseId ?? "—"} / ${t.connectorId ?? "—"}` }),
  column.accessor((t) => t.idTag ?? "", { id: "idTag", header: "Id tag", meta: { className: "mono" }, cell: ({ getValue }) => getValue() || "—" }),
  column.accessor("active", { header: "State", cell: ({ getValue }) => (getValue() ? <span className="badge badge-info">Charging</span> : <span className="badge">Finished</span>) }),
  column.accessor((t) => (time(t.stoppedAt) ?? now) - time(t.startedAt)!, { id: "duration", header: "Duration", meta: { className: "num" }, cell: ({ getValue }) => formatAge(getValue()) }),
  column.accessor((t) => t.energyWh ?? undefined, { id: "energy", header: "Energy", meta: { className: "num" }, sortUndefined: "last", cell: ({ getValue }) => formatKwh(getValue()) }),
  column.accessor((t) => t.stopReason ?? "", { id: "stopReason", header: "Stop reason", cell: ({ getValue }) => getValue() || "—" }),
  column.accessor("id", { header: "Transaction", enableSorting: false, meta: { className: "trace" } }),
];

/** Charging sessions, newest first, filterable by station and by active/finished. */
export const TransactionsView = () => {
  const trpc = useTRPC();
  const url = useUrlState(FILTERS);
  const stationId = url.values.stationId || undefined;
  const active = parseBool(url.values.active);
  const validStation = !stationId || stationIdPattern.test(stationId);
  const now = useNow(10_000);
  const list = usePagedList(
    useInfiniteQuery(
      trpc.charging.transactions.list.infiniteQueryOptions(
        { stationId: validStation ? stationId : undefined, active, limit: 50 },
        { getNextPageParam: nextCursor, refetchInterval: 15_000, enabled: validStation },
      ),
    ),
  );
  const columns = useMemo(() => transactionColumns(now), [now]);

  return (
    <>
      <PageHeader title="Transactions" description="Charging sessions across the fleet, newest first." />
      <ChargingNav />

      <FilterBar label="Filter transactions" onClear={url.clear} canClear={url.any}>
        <TextFilter
          label="Station id"
          value={url.values.stationId}
          onChange={(v) => url.set({ stationId: v })}
          type="text"
          size="wide"
          error={validStation ? undefined : "Not a valid station id: up to 48 letters, digits and . _ : @ -"}
          testId="filter-station"
          delayMs={400}
        />
        <SelectFilter
          label="State"
          value={url.values.active}
          onChange={(v) => url.set({ active: v })}
          options={boolOptions("Active and finished", "Active", "Finished")}
          testId="filter-active"
        />
      </FilterBar>

      <DataTable
        label="Transactions"
        columns={columns}
        rows={validStation ? list.rows : []}
        rowId={(t) => t.id}
        rowAttrs={(t) => ({ "data-testid": `transaction-row-${t.id}`, "data-active": t.active })}
        status={list.status}
        noun="transactions"
        empty={
          !validStation
            ? { title: "Check the station id", hint: "Fix the filter to see its transactions." }
            : url.any
              ? { title: "No transaction matches these filters", hint: "Try another station or state." }
              : { title: "No transactions yet", hint: "Sessions appear here as soon as a car starts charging." }
        }
        foot={list.loaded ? countText(list.rows.length, list.total, "transaction", "transactions") : null}
        paging={list.paging}
        testId="transactions-table"
        emptyTestId="transactions-empty"
      />
    </>
  );
};
