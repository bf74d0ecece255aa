"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import { formatDateTime, summarize } from "../../_components/format";
import { CsvExportButton, CsvExportStatus, useCsvExport } from "../../_components/ui/csv-export";
import { DataTable } from "../../_components/ui/data-table";

type Message = RouterOutputs["charging"]["stations"]["messages"]["items"][number];

const TYPE_LABELS: Record<number, string> = { 2: "CALL", 3: "RESULT", 4: "ERROR" };
const PAGE = 50;

const column = createColumnHelper<Message>();

const COLUMNS = [
  column.accessor("at", { header: "At", meta: { className: "nowrap num" }, cell: ({ getValue }) => formatDateTime(getValue()) }),
  column.accessor("direction", { header: "Direction", cell: ({ getValue }) => (getValue() === "in" ? "Station → CSMS" : "CSMS → station") }),
  column.accessor("type", { header: "Type", cell: ({ getValue }) => TYPE_LABELS[getValue()] ?? getValue() }),
  column.accessor((m) => m.action ?? "—", { id: "action", header: "Action" }),
  column.accessor("messageId", {
    header: "Message id",
    cell: ({ getValue }) => (
      <span className="trace" title={getValue()}>
        {getValue().slice(0, 8)}
      </span>
    ),
  }),
  column.display({
    id: "payload",
    header: "Payload",
    cell: ({ row: { original: m } }) => (
      <details>
        <summary>{summarize(m.payload, 60) || "{}"}</summary>
        <pre className="mono" style={{ whiteSpace: "pre-wrap", maxWidth: 520 }}>
          {JSON.stringify(m.payload, null, 2)}
        </pre>
      </details>
    ),
  }),
  column.accessor((m) => m.errorCode ?? "", { id: "error", header: "Error" }),
];

/** The station's OCPP message log, newest first, a page at a time; "Export CSV" downloads it whole. */
export const MessageLog = ({ stationId }: { stationId: string }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const page = useQuery(trpc.charging.stations.messages.queryOptions({ stationId, cursor, limit: PAGE }, { refetchInterval: cursor === null ? 10_000 : false }));
  const csv = useCsvExport(async () => ({
    csv: await queryClient.fetchQuery(trpc.charging.stations.messagesCsv.queryOptions({ stationId }, { staleTime: 0 })),
    filename: `${stationId}-messages.csv`,
  }));
  const items = page.data?.items ?? [];
  const older = page.data?.nextCursor;

  return (
    <div className="card" data-testid="message-log">
      <div className="card-head">
        <h2>Message log</h2>
        <CsvExportButton csv={csv} small />
      </div>
      <CsvExportStatus csv={csv} />
      <DataTable
        label="OCPP messages"
        columns={COLUMNS}
        rows={items}
        rowId={(m) => String(m.id)}
        rowAttrs={(m) => ({ "data-testid": "message-row", "data-action": m.action ?? "" })}
        sortParam={false}
        status={{ loading: page.isPending, error: page.error, retry: () => void page.refetch() }}
        noun="the message log"
        empty={{ title: "No messages", hint: cursor ? "Nothing older." : "The station has not exchanged any messages within the retention window." }}
        foot={`Page ${cursors.length} · ${items.length} messages`}
        paging={{
          kind: "pages",
          label: "Message log pages",
          prev: cursors.length > 1 ? { label: "Newer", onClick: () => setCursors((c) => c.slice(0, -1)), testId: "messages-newer" } : undefined,
          next: older ? { label: "Older", onClick: () => setCursors((c) => [...c, older]), testId: "messages-older" } : undefined,
        }}
        bare
        dense
        maxHeight={520}
        testId="message-table"
      />
    </div>
  );
};
