"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { errorMessage } from "../../_components/errors";
import { formatDateTime, summarize } from "../../_components/format";

const TYPE_LABELS: Record<number, string> = { 2: "CALL", 3: "RESULT", 4: "ERROR" };
const PAGE = 50;

/** The station's OCPP message log, newest first, paged; "Export CSV" downloads it whole. */
export const MessageLog = ({ stationId }: { stationId: string }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const page = useQuery(trpc.charging.stations.messages.queryOptions({ stationId, cursor, limit: PAGE }, { refetchInterval: cursor === null ? 10_000 : false }));
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const csv = await queryClient.fetchQuery(trpc.charging.stations.messagesCsv.queryOptions({ stationId }, { staleTime: 0 }));
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `${stationId}-messages.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      setExportError(errorMessage(error));
    } finally {
      setExporting(false);
    }
  };

  const items = page.data?.items ?? [];
  return (
    <div className="card" data-testid="message-log">
      <div className="card-head">
        <h2>Message log</h2>
        <button type="button" className="btn btn-sm" onClick={exportCsv} disabled={exporting} data-testid="export-csv">
          {exporting ? <span className="spinner" aria-hidden="true" /> : null}
          Export CSV
        </button>
      </div>
      {exportError ? (
        <div className="alert alert-error" role="alert">
          <p>Export failed: {exportError}</p>
        </div>
      ) : null}
      {page.isError ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load the message log: {errorMessage(page.error)}</p>
        </div>
      ) : null}
      <div className="table-wrap" style={{ boxShadow: "none", border: 0 }}>
        {page.isPending ? (
          <div className="empty">Loading messages…</div>
        ) : items.length === 0 ? (
          <div className="empty">
            <strong>No messages</strong>
            {cursor ? "Nothing older." : "The station has not exchanged any messages within the retention window."}
          </div>
        ) : (
          <table className="data" data-testid="message-table">
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Direction</th>
                <th scope="col">Type</th>
                <th scope="col">Action</th>
                <th scope="col">Message id</th>
                <th scope="col">Payload</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id} data-testid="message-row" data-action={m.action ?? ""}>
                  <td className="nowrap num">{formatDateTime(m.at)}</td>
                  <td>{m.direction === "in" ? "Station → CSMS" : "CSMS → station"}</td>
                  <td>{TYPE_LABELS[m.type] ?? m.type}</td>
                  <td>{m.action ?? "—"}</td>
                  <td className="trace">{m.messageId}</td>
                  <td>
                    <details>
                      <summary>{summarize(m.payload, 60) || "{}"}</summary>
                      <pre className="mono" style={{ whiteSpace: "pre-wrap", maxWidth: 520 }}>
                        {JSON.stringify(m.payload, null, 2)}
                      </pre>
                    </details>
                  </td>
                  <td>{m.errorCode ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="table-foot" style={{ padding: "0 14px 12px" }}>
        <span>
          Page {cursors.length} · {items.length} messages
        </span>
        <span className="status-line">
          <button type="button" className="btn btn-sm" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length <= 1} data-testid="messages-newer">
            Newer
          </button>
          <button
            type="button"
            className="btn btn-sm"
            onClick={() => page.data?.nextCursor && setCursors((c) => [...c, page.data!.nextCursor])}
            disabled={!page.data?.nextCursor}
            data-testid="messages-older"
          >
            Older
          </button>
        </span>
      </div>
    </div>
  );
};
