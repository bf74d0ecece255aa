"use client";

import { createColumnHelper } from "@tanstack/react-table";
import { useTRPCClient } from "@/app/_trpc/client";
import { LiveIndicator } from "../../_components/badges";
import { useMe } from "../../_components/session";
import { CsvExportButton, CsvExportStatus, useCsvExport } from "../../_components/ui/csv-export";
import { DataTable } from "../../_components/ui/data-table";
import { PageHeader } from "../../_components/ui/page-header";
import { FlexNav } from "../_components/flex-nav";
import { formatEur, formatPrice, formatW, formatWindow } from "../_components/format";
import { useFlexSettlements, type FlexSettlementRow } from "../_components/use-flex";

const column = createColumnHelper<FlexSettlementRow>();

/** Settlement per trade and period: baseline vs metered, ordered, delivered, penalties. */
export const SettlementsView = () => {
  const { user } = useMe();
  const client = useTRPCClient();
  const live = useFlexSettlements();
  const csv = useCsvExport(() => client.flex.settlements.exportCsv.query(), ["settlement", "settlements"]);
  const rows = [...live.items.values()].sort((a, b) => b.period - a.period || a.tradeId.localeCompare(b.tradeId));
  const columns = [
    column.accessor("period", { header: "Window", meta: { className: "mono nowrap" }, cell: ({ row: { original: s } }) => formatWindow(s.period, s.periodEnd) }),
    column.accessor("requestId", { header: "Request", meta: { className: "mono" } }),
    ...(user.role === "trader" ? [] : [column.accessor("buyerId", { header: "Buyer", meta: { className: "mono" } })]),
    column.accessor("baselineW", { header: "Baseline", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("actualW", { header: "Metered", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("orderedW", { header: "Ordered", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("deliveredW", { header: "Delivered", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("deficiencyW", { header: "Deficiency", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("price", { header: "Price", meta: { className: "num" }, cell: ({ getValue }) => formatPrice(getValue()) }),
    column.accessor("payment", { header: "Payment", meta: { className: "num" }, cell: ({ getValue }) => formatEur(getValue()) }),
    column.accessor("penalty", { header: "Penalty", meta: { className: "num" }, cell: ({ getValue }) => (getValue() > 0 ? <span className="tone-danger">{formatEur(getValue())}</span> : formatEur(getValue())) }),
    column.accessor("net", { header: "Net", meta: { className: "num" }, cell: ({ getValue }) => formatEur(getValue()) }),
  ];
  return (
    <>
      <PageHeader
        title="Settlements"
        description={user.role === "trader" ? "Your trades, settled after each period: delivered against ordered, with penalties for what was missing." : "Every trade, settled after each period."}
        actions={
          <>
            <LiveIndicator state={live.state} />
            <CsvExportButton csv={csv} disabled={!live.received} />
          </>
        }
      />
      <FlexNav />
      <CsvExportStatus csv={csv} />
      <DataTable
        label="Settlements"
        columns={columns}
        rows={rows}
        rowId={(s) => `${s.nodeId}/${s.id}`}
        rowAttrs={(s) => ({ "data-testid": `flex-settlement-${s.requestId}` })}
        status={{ loading: !live.received }}
        noun="settlements"
        empty={{ title: "No settlements yet", hint: "A trade is settled shortly after its period ends." }}
        sortParam="sort"
        testId="flex-settlements"
      />
    </>
  );
};
