"use client";

import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";
import { fieldErrors, useTRPC } from "@/app/_trpc/client";
import { TOKEN_STATUSES, type TokenStatus, type TokenView } from "@/contracts/csms";
import { Dialog } from "../../_components/dialog";
import { errorMessage } from "../../_components/errors";
import { formatDateTime, toDateTimeLocal } from "../../_components/format";
import { useMe } from "../../_components/session";
import { ChargingNav } from "../_components/charging-nav";

const TONE: Record<TokenStatus, string> = { Accepted: "badge-ok", Blocked: "badge-danger", Expired: "badge-warn", Invalid: "" };

const useDebounced = <T,>(value: T, ms: number) => {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
};

const TokenDialog = ({ editing, onClose, onSaved }: { editing: TokenView | null; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const uid = useId();
  const [idTag, setIdTag] = useState(editing?.idTag ?? "");
  const [status, setStatus] = useState<TokenStatus>(editing?.status ?? "Accepted");
  const [expiresAt, setExpiresAt] = useState(editing?.expiresAt ? toDateTimeLocal(new Date(editing.expiresAt)) : "");
  const [note, setNote] = useState(editing?.note ?? "");
  const done = async (message: string) => {
    await queryClient.invalidateQueries(trpc.charging.tokens.list.pathFilter());
    onSaved(message);
    onClose();
  };
  const create = useMutation(trpc.charging.tokens.create.mutationOptions({ onSuccess: (t) => done(`Token ${t.idTag} created.`) }));
  const update = useMutation(trpc.charging.tokens.update.mutationOptions({ onSuccess: (t) => done(`Token ${t.idTag} saved.`) }));
  const mutation = editing ? update : create;
  const fields = fieldErrors(mutation.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const body = { idTag, status, expiresAt: expiresAt ? new Date(expiresAt) : null, note: note.trim() || null };
    if (editing) update.mutate(body);
    else create.mutate(body);
  };
  return (
    <Dialog title={editing ? `Edit token ${editing.idTag}` : "New token"} onClose={onClose} busy={mutation.isPending} testId="token-dialog">
      <form onSubmit={onSubmit} noValidate aria-label={editing ? "Edit token" : "New token"}>
        <div className="dialog-body">
          {mutation.error && !fields.idTag ? (
            <div className="alert alert-error" role="alert" data-testid="form-error">
              <p>{errorMessage(mutation.error)}</p>
            </div>
          ) : null}
          <div className="form-grid">
            <div className="field">
              <label htmlFor={`${uid}-tag`}>Id tag</label>
              <input id={`${uid}-tag`} className="input mono" value={idTag} onChange={(e) => setIdTag(e.target.value)} readOnly={Boolean(editing)} autoFocus={!editing} data-testid="token-idtag" />
              {fields.idTag ? <span className="field-error">{fields.idTag}</span> : null}
            </div>
            <div className="field">
              <label htmlFor={`${uid}-status`}>Status</label>
              <select id={`${uid}-status`} className="select" value={status} onChange={(e) => setStatus(e.target.value as TokenStatus)} data-testid="token-status">
                {TOKEN_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${uid}-exp`}>Expires</label>
              <input id={`${uid}-exp`} className="input" type="datetime-local" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`${uid}-note`}>Note</label>
              <input id={`${uid}-note`} className="input" value={note} onChange={(e) => setNote(e.target.value)} maxLength={200} data-testid="token-note" />
            </div>
          </div>
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={mutation.isPending}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={mutation.isPending} data-testid="token-save">
            {mutation.isPending ? <span className="spinner" aria-hidden="true" /> : null}
            {editing ? "Save" : "Create token"}
          </button>
        </div>
      </form>
    </Dialog>
  );
};

const DeleteDialog = ({ token, onClose, onSaved }: { token: TokenView; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const mutation = useMutation(
    trpc.charging.tokens.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.charging.tokens.list.pathFilter());
        onSaved(`Token ${token.idTag} deleted.`);
        onClose();
      },
    }),
  );
  return (
    <Dialog title="Delete token" onClose={onClose} busy={mutation.isPending} testId="token-delete-dialog">
      <form
        aria-label="Delete token"
        onSubmit={(e) => {
          e.preventDefault();
          mutation.mutate({ idTag: token.idTag });
        }}
      >
        <div className="dialog-body">
          {mutation.error ? (
            <div className="alert alert-error" role="alert">
              <p>{errorMessage(mutation.error)}</p>
            </div>
          ) : null}
          <p>
            Delete <strong className="mono">{token.idTag}</strong>? Stations will treat it as unknown from now on.
          </p>
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={mutation.isPending} autoFocus>
            Cancel
          </button>
          <button type="submit" className="btn btn-danger" disabled={mutation.isPending} data-testid="token-confirm-delete">
            Delete token
          </button>
        </div>
      </form>
    </Dialog>
  );
};

/** Authorization tokens (id tags): support and admins manage them; everyone else reads. */
export const TokensView = () => {
  const trpc = useTRPC();
  const { can } = useMe();
  const canEdit = can("charging.command");
  const [q, setQ] = useState("");
  const search = useDebounced(q.trim(), 300);
  const [dialog, setDialog] = useState<{ kind: "create" } | { kind: "edit" | "delete"; token: TokenView } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useInfiniteQuery(
    trpc.charging.tokens.list.infiniteQueryOptions({ q: search || undefined, limit: 50 }, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Tokens</h1>
          <p>Id tags the CSMS authorizes. {canEdit ? "" : "Read-only: support staff manage tokens."}</p>
        </div>
        {canEdit ? (
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: "create" })} data-testid="token-new">
            New token
          </button>
        ) : null}
      </div>
      <ChargingNav />

      {notice ? (
        <div className="alert alert-ok" role="status" data-testid="token-notice">
          <p>{notice}</p>
        </div>
      ) : null}

      <form className="filters" role="search" aria-label="Search tokens" onSubmit={(e) => e.preventDefault()}>
        <div className="field wide">
          <label htmlFor="tok-q">Id tag</label>
          <input id="tok-q" className="input" type="search" value={q} onChange={(e) => setQ(e.target.value)} data-testid="token-search" />
        </div>
      </form>

      {list.isError ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load tokens: {errorMessage(list.error)}</p>
        </div>
      ) : null}

      <div className="table-wrap">
        {list.isPending ? (
          <div className="empty">Loading tokens…</div>
        ) : rows.length === 0 ? (
          <div className="empty" data-testid="tokens-empty">
            <strong>{search ? "No token matches" : "No tokens yet"}</strong>
          </div>
        ) : (
          <table className="data" data-testid="tokens-table">
            <thead>
              <tr>
                <th scope="col">Id tag</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">Note</th>
                <th scope="col">Updated</th>
                {canEdit ? <th scope="col" /> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.idTag} data-testid={`token-row-${t.idTag}`} data-status={t.status}>
                  <td className="mono">{t.idTag}</td>
                  <td>
                    <span className={`badge ${TONE[t.status] ?? ""}`}>{t.status}</span>
                  </td>
                  <td className="nowrap">{t.expiresAt ? formatDateTime(t.expiresAt) : "never"}</td>
                  <td>{t.note ?? ""}</td>
                  <td className="nowrap">{formatDateTime(t.updatedAt)}</td>
                  {canEdit ? (
                    <td className="actions-cell">
                      <button type="button" className="btn btn-sm" onClick={() => setDialog({ kind: "edit", token: t })} data-testid={`token-edit-${t.idTag}`}>
                        Edit
                      </button>{" "}
                      <button type="button" className="btn btn-sm btn-ghost" onClick={() => setDialog({ kind: "delete", token: t })} data-testid={`token-delete-${t.idTag}`}>
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="table-foot">
        <span>{rows.length} tokens shown</span>
        {list.hasNextPage ? (
          <button type="button" className="btn" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            Load more
          </button>
        ) : null}
      </div>

      {dialog?.kind === "create" ? <TokenDialog editing={null} onClose={() => setDialog(null)} onSaved={setNotice} /> : null}
      {dialog?.kind === "edit" ? <TokenDialog editing={dialog.token} onClose={() => setDialog(null)} onSaved={setNotice} /> : null}
      {dialog?.kind === "delete" ? <DeleteDialog token={dialog.token} onClose={() => setDialog(null)} onSaved={setNotice} /> : null}
    </>
  );
};
