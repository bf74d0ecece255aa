"use client";

import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { TOKEN_STATUSES, type TokenStatus, type TokenView } from "@/contracts/csms";
import { formatDateTime, toDateTimeLocal } from "../../_components/format";
import { useMe } from "../../_components/session";
import { DataTable, type Columns } from "../../_components/ui/data-table";
import { ConfirmDialog, FormDialog } from "../../_components/ui/dialog";
import { Field, Select, toOptions } from "../../_components/ui/field";
import { FilterBar, TextFilter } from "../../_components/ui/filters";
import { formErrors } from "../../_components/ui/messages";
import { Notice, PageHeader, useNotice } from "../../_components/ui/page-header";
import { countText, nextCursor, usePagedList } from "../../_components/ui/paged-list";
import { useUrlState } from "../../_components/ui/url-state";
import { ChargingNav } from "../_components/charging-nav";

const TONE: Record<TokenStatus, string> = { Accepted: "badge-ok", Blocked: "badge-danger", Expired: "badge-warn", Invalid: "" };
const LABELS = { idTag: "Id tag", status: "Status", expiresAt: "Expires", note: "Note" };

/** Re-read every token list after a change, then say what happened and close. */
const useTokenSaved = (onSaved: (message: string) => void, onClose: () => void) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return async (message: string) => {
    await queryClient.invalidateQueries(trpc.charging.tokens.list.pathFilter());
    onSaved(message);
    onClose();
  };
};

const TokenDialog = ({ editing, onClose, onSaved }: { editing: TokenView | null; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const saved = useTokenSaved(onSaved, onClose);
  const [form, setForm] = useState({
    idTag: editing?.idTag ?? "",
    status: (editing?.status ?? "Accepted") as TokenStatus,
    expiresAt: editing?.expiresAt ? toDateTimeLocal(new Date(editing.expiresAt)) : "",
    note: editing?.note ?? "",
  });
  const create = useMutation(trpc.charging.tokens.create.mutationOptions({ onSuccess: (t) => saved(`Token ${t.idTag} created.`) }));
  const update = useMutation(trpc.charging.tokens.update.mutationOptions({ onSuccess: (t) => saved(`Token ${t.idTag} saved.`) }));
  const mutation = editing ? update : create;
  const { byField, other } = formErrors(mutation.error, LABELS);
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  const submit = () => {
    const body = { idTag: form.idTag, status: form.status, expiresAt: form.expiresAt ? new Date(form.expiresAt) : null, note: form.note.trim() || null };
    if (editing) update.mutate(body);
    else create.mutate(body);
  };
  return (
    <FormDialog
      title={editing ? `Edit token ${editing.idTag}` : "New token"}
      submitLabel={editing ? "Save" : "Create token"}
      onSubmit={submit}
      onClose={onClose}
      pending={mutation.isPending}
      errors={other}
      testId="token-dialog"
      submitTestId="token-save"
    >
      <div className="form-grid">
        <Field label="Id tag" error={byField.idTag} name="idTag" hint={editing ? "The id tag cannot change." : "What the card or app presents, up to 36 characters."}>
          {(c) => <input {...c} className="input mono" value={form.idTag} onChange={set("idTag")} readOnly={Boolean(editing)} data-testid="token-idtag" />}
        </Field>
        <Field label="Status" error={byField.status} name="status">
          {(c) => <Select {...c} value={form.status} onValue={(status) => setForm((f) => ({ ...f, status: status as TokenStatus }))} options={toOptions(TOKEN_STATUSES)} data-testid="token-status" />}
        </Field>
        <Field label="Expires (optional)" error={byField.expiresAt} name="expiresAt">
          {(c) => <input {...c} className="input" type="datetime-local" value={form.expiresAt} onChange={set("expiresAt")} />}
        </Field>
        <Field label="Note (optional)" error={byField.note} name="note">
          {(c) => <input {...c} className="input" value={form.note} onChange={set("note")} maxLength={200} data-testid="token-note" />}
        </Field>
      </div>
    </FormDialog>
  );
};

const DeleteDialog = ({ token, onClose, onSaved }: { token: TokenView; onClose: () => void; onSaved: (message: string) => void }) => {
  const trpc = useTRPC();
  const saved = useTokenSaved(onSaved, onClose);
  const mutation = useMutation(trpc.charging.tokens.delete.mutationOptions({ onSuccess: () => saved(`Token ${token.idTag} deleted.`) }));
  return (
    <ConfirmDialog
      title="Delete token"
      confirmLabel="Delete token"
      onConfirm={() => mutation.mutate({ idTag: token.idTag })}
      onClose={onClose}
      pending={mutation.isPending}
      error={mutation.error}
      testId="token-delete-dialog"
      confirmTestId="token-confirm-delete"
    >
      <p>
        Delete <strong className="mono">{token.idTag}</strong>? Stations will treat it as unknown from now on.
      </p>
    </ConfirmDialog>
  );
};

type Open = { kind: "create" } | { kind: "edit" | "delete"; token: TokenView } | null;

const column = createColumnHelper<TokenView>();

const BASE_COLUMNS = [
  column.accessor("idTag", { header: "Id tag", meta: { className: "mono" } }),
  column.accessor("status", { header: "Status", cell: ({ getValue }) => <span className={`badge ${TONE[getValue()] ?? ""}`}>{getValue()}</span> }),
  column.accessor((t) => (t.expiresAt ? new Date(t.expiresAt).getTime() : undefined), {
    id: "expires",
    header: "Expires",
    meta: { className: "nowrap" },
    sortUndefined: "last",
    cell: ({ row }) => (row.original.expiresAt ? formatDateTime(row.original.expiresAt) : "never"),
  }),
  column.accessor((t) => t.note ?? "", { id: "note", header: "Note" }),
  column.accessor((t) => new Date(t.updatedAt).getTime(), { id: "updated", header: "Updated", meta: { className: "nowrap" }, cell: ({ row }) => formatDateTime(row.original.updatedAt) }),
];

/** Authorization tokens (id tags): support and admins manage them; everyone else reads. */
export const TokensView = () => {
  const trpc = useTRPC();
  const { can } = useMe();
  const canEdit = can("charging.command");
  const url = useUrlState(["q"]);
  const [open, setOpen] = useState<Open>(null);
  const notice = useNotice();
  const list = usePagedList(useInfiniteQuery(trpc.charging.tokens.list.infiniteQueryOptions({ q: url.values.q || undefined, limit: 50 }, { getNextPageParam: nextCursor })));

  const columns = useMemo<Columns<TokenView>>(
    () =>
      canEdit
        ? [
            ...BASE_COLUMNS,
            column.display({
              id: "actions",
              header: "Actions",
              meta: { srOnly: true, className: "actions-cell" },
              cell: ({ row: { original: t } }) => (
                <>
                  <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: "edit", token: t })} aria-label={`Edit ${t.idTag}`} data-testid={`token-edit-${t.idTag}`}>
                    Edit
                  </button>{" "}
                  <button type="button" className="btn btn-sm btn-ghost" onClick={() => setOpen({ kind: "delete", token: t })} aria-label={`Delete ${t.idTag}`} data-testid={`token-delete-${t.idTag}`}>
                    Delete
                  </button>
                </>
              ),
            }),
          ]
        : BASE_COLUMNS,
    [canEdit],
  );
  const close = () => setOpen(null);

  return (
    <>
      <PageHeader
        title="Tokens"
        description={`Id tags the CSMS authorizes.${canEdit ? "" : " Read-only: support staff manage tokens."}`}
        primary={canEdit ? { label: "New token", onClick: () => setOpen({ kind: "create" }), testId: "token-new" } : undefined}
      />
      <ChargingNav />
      <Notice notice={notice} testId="token-notice" />

      <FilterBar label="Search tokens" onClear={url.clear} canClear={url.any}>
        <TextFilter label="Id tag" value={url.values.q} onChange={(q) => url.set({ q })} size="wide" testId="token-search" delayMs={300} />
      </FilterBar>

      <DataTable
        label="Tokens"
        {...list.table}
        columns={columns}
        rowId={(t) => t.idTag}
        rowAttrs={(t) => ({ "data-testid": `token-row-${t.idTag}`, "data-status": t.status })}
        noun="tokens"
        empty={url.any ? { title: "No token matches", hint: "Try another id tag." } : { title: "No tokens yet", hint: canEdit ? "Add one with “New token”." : undefined }}
        foot={list.loaded ? countText(list.rows.length, list.total, "token", "tokens") : null}
        testId="tokens-table"
        emptyTestId="tokens-empty"
      />

      {open?.kind === "create" ? <TokenDialog editing={null} onClose={close} onSaved={notice.show} /> : null}
      {open?.kind === "edit" ? <TokenDialog key={open.token.idTag} editing={open.token} onClose={close} onSaved={notice.show} /> : null}
      {open?.kind === "delete" ? <DeleteDialog token={open.token} onClose={close} onSaved={notice.show} /> : null}
    </>
  );
};
