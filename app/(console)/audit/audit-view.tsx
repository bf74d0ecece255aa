"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { fieldErrors, useTRPC, useTRPCClient } from "@/app/_trpc/client";
import { OutcomeBadge } from "../_components/badges";
import { errorMessage, isForbidden } from "../_components/errors";
import { describeError, formatDateTime, summarize } from "../_components/format";
import { useMe } from "../_components/session";

const OUTCOMES = ["ok", "error", "denied"] as const;
type Outcome = (typeof OUTCOMES)[number];

/** The filters as they sit in the URL (datetime-local strings for the time range). */
type UrlFilters = { actor: string; action: string; outcome: string; from: string; to: string };

const FILTER_KEYS = ["actor", "action", "outcome", "from", "to"] as const;

const readFilters = (params: URLSearchParams): UrlFilters => ({
  actor: params.get("actor") ?? "",
  action: params.get("action") ?? "",
  outcome: params.get("outcome") ?? "",
  from: params.get("from") ?? "",
  to: params.get("to") ?? "",
});

const localDate = (value: string, endOfMinute = false) => {
  if (!value) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return undefined;
  // datetime-local stops at minutes; "to 14:05" means up to the end of that minute.
  return endOfMinute && value.length <= 16 ? new Date(d.getTime() + 59_999) : d;
};

/** What the server's filter schema takes. */
const toServerFilter = (f: UrlFilters) => ({
  actor: f.actor.trim() || undefined,
  action: f.action.trim() || undefined,
  outcome: OUTCOMES.find((o) => o === f.outcome) as Outcome | undefined,
  from: localDate(f.from),
  to: localDate(f.to, true),
});

const FilterForm = ({ initial, onApply, errors }: { initial: UrlFilters; onApply: (f: UrlFilters) => void; errors: Record<string, string> }) => {
  const [form, setForm] = useState(initial);
  const set = (key: keyof UrlFilters) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    onApply(form);
  };
  const fromError = errors["filter.from"] ?? errors.from;
  const toError = errors["filter.to"] ?? errors.to;
  const hasAny = FILTER_KEYS.some((k) => initial[k]);
  return (
    <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={onSubmit} noValidate>
      <div className="field wide">
        <label htmlFor="audit-actor">Actor email</label>
        <input id="audit-actor" className="input" type="search" value={form.actor} onChange={set("actor")} placeholder="contains…" data-testid="filter-actor" />
      </div>
      <div className="field">
        <label htmlFor="audit-action">Action prefix</label>
        <input id="audit-action" className="input" value={form.action} onChange={set("action")} placeholder="e.g. admin.users" data-testid="filter-action" />
      </div>
      <div className="field">
        <label htmlFor="audit-outcome">Outcome</label>
        <select id="audit-outcome" className="select" value={form.outcome} onChange={set("outcome")} data-testid="filter-outcome">
          <option value="">Any outcome</option>
          <option value="ok">OK</option>
          <option value="error">Error</option>
          <option value="denied">Denied</option>
        </select>
      </div>
      <div className="field date">
        <label htmlFor="audit-from">From</label>
        <input
          id="audit-from"
          className="input"
          type="datetime-local"
          value={form.from}
          onChange={set("from")}
          aria-invalid={fromError ? true : undefined}
          aria-describedby={fromError ? "audit-from-error" : undefined}
          data-testid="filter-from"
        />
        {fromError ? (
          <span className="field-error" id="audit-from-error">
            {fromError}
          </span>
        ) : null}
      </div>
      <div className="field date">
        <label htmlFor="audit-to">To</label>
        <input
          id="audit-to"
          className="input"
          type="datetime-local"
          value={form.to}
          onChange={set("to")}
          aria-invalid={toError ? true : undefined}
          aria-describedby={toError ? "audit-to-error" : undefined}
          data-testid="filter-to"
        />
        {toError ? (
          <span className="field-error" id="audit-to-error">
            {toError}
          </span>
        ) : null}
      </div>
      <div className="actions">
        <button type="submit" className="btn btn-primary" data-testid="apply-filters">
          Apply
        </button>
        {hasAny ? (
          <button type="button" className="btn btn-ghost" onClick={() => onApply({ actor: "", action: "", outcome: "", from: "", to: "" })}>
            Clear
          </button>
        ) : null}
      </div>
    </form>
  );
};

const downloadText = (text: string, filename: string, type: string) => {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

type ExportState = { kind: "idle" } | { kind: "busy" } | { kind: "done"; rows: number; truncated: boolean; filename: string } | { kind: "error"; message: string };

export const AuditView = () => {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const { can } = useMe();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filters = readFilters(params);
  const cursor = params.get("cursor");
  const serverFilter = toServerFilter(filters);
  const [exportState, setExportState] = useState<ExportState>({ kind: "idle" });

  const list = useQuery(
    trpc.audit.list.queryOptions({ filter: serverFilter, cursor: cursor && /^\d+$/.test(cursor) ? cursor : null, limit: 50 }, { placeholderData: keepPreviousData }),
  );

  const navigate = (next: URLSearchParams, push = false) => {
    const query = next.toString();
    const url = query ? `${pathname}?${query}` : pathname;
    if (push) router.push(url, { scroll: false });
    else router.replace(url, { scroll: false });
  };

  const applyFilters = (f: UrlFilters) => {
    const next = new URLSearchParams();
    for (const key of FILTER_KEYS) if (f[key].trim()) next.set(key, f[key].trim());
    setExportState({ kind: "idle" });
    navigate(next, true);
  };

  const goTo = (nextCursor: string | null) => {
    const next = new URLSearchParams(params.toString());
    if (nextCursor) next.set("cursor", nextCursor);
    else next.delete("cursor");
    navigate(next, true);
    window.scrollTo({ top: 0 });
  };

  const exportCsv = async () => {
    setExportState({ kind: "busy" });
    try {
      const result = await client.audit.exportCsv.query({ filter: serverFilter });
      downloadText(result.csv, result.filename, "text/csv;charset=utf-8");
      setExportState({ kind: "done", rows: result.rows, truncated: result.truncated, filename: result.filename });
    } catch (error) {
      setExportState({ kind: "error", message: errorMessage(error, "The export failed.") });
    }
  };

  if (isForbidden(list.error)) {
    return (
      <div className="empty" data-testid="no-access">
        <strong>You don&apos;t have access to the audit log</strong>
        {errorMessage(list.error)}
      </div>
    );
  }

  const errors = fieldErrors(list.error);
  const badFilter = Object.keys(errors).length > 0;
  const items = badFilter ? [] : (list.data?.items ?? []);
  const filtered = FILTER_KEYS.some((k) => filters[k]);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Audit log</h1>
          <p>Every sign-in and every change, who made it and what came of it.</p>
        </div>
        {can("audit.export") ? (
          <div className="actions">
            <button type="button" className="btn" onClick={exportCsv} disabled={exportState.kind === "busy" || badFilter} data-testid="export-csv">
              {exportState.kind === "busy" ? <span className="spinner" aria-hidden="true" /> : null}
              Export CSV
            </button>
          </div>
        ) : null}
      </div>

      <FilterForm key={params.toString()} initial={filters} onApply={applyFilters} errors={errors} />

      <div role="status" aria-live="polite">
        {exportState.kind === "done" ? (
          <div className={`alert ${exportState.truncated ? "alert-warn" : "alert-ok"}`} data-testid="export-status">
            <p>
              Exported {exportState.rows.toLocaleString()} {exportState.rows === 1 ? "entry" : "entries"} to {exportState.filename}.
              {exportState.truncated ? " The export stopped at its row limit; narrow the filters to get the rest." : ""}
            </p>
          </div>
        ) : null}
        {exportState.kind === "error" ? (
          <div className="alert alert-error" data-testid="export-status">
            <p>{exportState.message}</p>
          </div>
        ) : null}
      </div>

      {list.isError && !badFilter ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load the audit log: {errorMessage(list.error)}</p>
        </div>
      ) : null}

      <div className="table-foot" style={{ marginTop: 0, marginBottom: 8 }}>
        <span data-testid="audit-total">
          {list.data && !badFilter ? `${list.data.total.toLocaleString()} ${list.data.total === 1 ? "entry matches" : "entries match"}` : "\u00a0"}
          {cursor ? " · showing older entries" : ""}
        </span>
        {list.isFetching && list.data ? <span className="spinner" aria-label="Loading" /> : null}
      </div>

      <div className="table-wrap">
        {badFilter ? (
          <div className="empty" data-testid="audit-bad-filter">
            <strong>Check the filters</strong>
            {Object.values(errors)[0]}
          </div>
        ) : list.isPending ? (
          <div className="empty">Loading the audit log…</div>
        ) : items.length === 0 ? (
          <div className="empty" data-testid="audit-empty">
            <strong>{filtered ? "Nothing matches these filters" : cursor ? "No older entries" : "The audit log is empty"}</strong>
            {filtered ? "Widen the time range or clear a filter." : null}
          </div>
        ) : (
          <table className="data" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Role</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">Error</th>
                <th scope="col">Trace id</th>
                <th scope="col">Input</th>
              </tr>
            </thead>
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id} data-testid={`audit-row-${entry.id}`}>
                  <td className="nowrap num">{formatDateTime(entry.at)}</td>
                  <td title={entry.ip ? `from ${entry.ip}` : undefined}>{entry.actorEmail ?? <span className="muted">system</span>}</td>
                  <td>{entry.actorRole ?? "—"}</td>
                  <td className="mono">{entry.action}</td>
                  <td>
                    <span className="clip" style={{ minWidth: 140, maxWidth: 220 }} title={entry.target ?? undefined}>
                      {entry.target ?? "—"}
                    </span>
                  </td>
                  <td>
                    <OutcomeBadge outcome={entry.outcome} />
                  </td>
                  <td>
                    {entry.error ? (
                      <span className="clip" style={{ color: "var(--danger)" }} title={entry.error}>
                        {describeError(entry.error)}
                      </span>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>
                    <span className="trace truncate" style={{ maxWidth: 120 }} title={entry.traceId}>
                      {entry.traceId}
                    </span>
                  </td>
                  <td>
                    {entry.input === null || entry.input === undefined ? (
                      "—"
                    ) : (
                      <details>
                        <summary>{summarize(entry.input, 40)}</summary>
                        <pre>{JSON.stringify(entry.input, null, 2)}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <nav className="table-foot" aria-label="Audit log pages">
        <span>{items.length ? `${items.length} on this page` : ""}</span>
        <span className="actions">
          {cursor ? (
            <button type="button" className="btn" onClick={() => goTo(null)} data-testid="back-to-newest">
              Back to newest
            </button>
          ) : null}
          {list.data?.nextCursor && !badFilter ? (
            <button type="button" className="btn" onClick={() => goTo(list.data.nextCursor)} data-testid="next-page">
              Next page
            </button>
          ) : null}
        </span>
      </nav>
    </>
  );
};
