"use client";

import { useState } from "react";
import { Spinner } from "./field";
import { errorMessage } from "./messages";

/** What an export query answers: the file, and how much of it there is when the router says. */
export type CsvFile = { csv: string; filename: string; rows?: number; truncated?: boolean };

type ExportState = { kind: "idle" } | { kind: "busy" } | { kind: "done"; file: Omit<CsvFile, "csv"> } | { kind: "error"; message: string };

const download = ({ csv, filename }: CsvFile) => {
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

/**
 * "Export CSV" for a page that has one: runs the export query, hands the browser the file,
 * and keeps what happened for the status line. `noun` names a row ("entry" / "entries").
 */
export const useCsvExport = (run: () => Promise<CsvFile>, noun: [string, string] = ["row", "rows"]) => {
  const [state, setState] = useState<ExportState>({ kind: "idle" });
  const start = async () => {
    setState({ kind: "busy" });
    try {
      const file = await run();
      download(file);
      setState({ kind: "done", file: { filename: file.filename, rows: file.rows, truncated: file.truncated } });
    } catch (error) {
      setState({ kind: "error", message: errorMessage(error, "The export failed. Try again.") });
    }
  };
  return { state, start, reset: () => setState({ kind: "idle" }), noun };
};

type CsvExport = ReturnType<typeof useCsvExport>;

export const CsvExportButton = ({ csv, disabled = false, small = false }: { csv: CsvExport; disabled?: boolean; small?: boolean }) => (
  <button type="button" className={`btn ${small ? "btn-sm" : ""}`} onClick={() => void csv.start()} disabled={disabled || csv.state.kind === "busy"} data-testid="export-csv">
    {csv.state.kind === "busy" ? <Spinner /> : null}
    Export CSV
  </button>
);

/** What the last export did, announced politely. */
export const CsvExportStatus = ({ csv }: { csv: CsvExport }) => {
  const { state, noun } = csv;
  return (
    <div role="status" aria-live="polite">
      {state.kind === "done" ? (
        <div className={`alert ${state.file.truncated ? "alert-warn" : "alert-ok"}`} data-testid="export-status">
          <p>
            Exported {state.file.rows !== undefined ? `${state.file.rows.toLocaleString()} ${state.file.rows === 1 ? noun[0] : noun[1]} ` : ""}to {state.file.filename}.
            {state.file.truncated ? " The export stopped at its row limit; narrow the filters to get the rest." : ""}
          </p>
        </div>
      ) : null}
      {state.kind === "error" ? (
        <div className="alert alert-error" data-testid="export-status">
          <p>{state.message}</p>
        </div>
      ) : null}
    </div>
  );
};
