"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useEffect, useState } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import { LiveIndicator } from "../../_components/badges";
import { formatDateTime } from "../../_components/format";
import { newIdempotencyKey } from "../../_components/idempotency";
import { useMe } from "../../_components/session";
import { DataTable } from "../../_components/ui/data-table";
import { ConfirmDialog, FormDialog } from "../../_components/ui/dialog";
import { Field, Select } from "../../_components/ui/field";
import { FilterBar, optionsOf, SelectFilter } from "../../_components/ui/filters";
import { errorMessage, formErrors } from "../../_components/ui/messages";
import { Notice, PageHeader, useNotice } from "../../_components/ui/page-header";
import { oneOf, useUrlState } from "../../_components/ui/url-state";
import { useNow } from "../../_components/use-now";
import { FlexNav } from "../_components/flex-nav";
import { formatPrice, formatW, formatWindow } from "../_components/format";
import { numberChecks, useNodeVerdict } from "../_components/node-verdict";
import { DirectionLabel, FlexStatus } from "../_components/status";
import { useFlexContext, useFlexRequests, type FlexContext, type FlexRequestRow } from "../_components/use-flex";

const STATUSES = ["active", "matched", "unmatched", "cancelled", "expired", "settled"] as const;
const FILTERS = ["status"] as const;
const LABELS = { participantId: "Participant", gridNodeId: "Grid node", direction: "Direction", periodFrom: "Window", periodTo: "Windows", quantityW: "Quantity", minQuantityW: "Minimum", maxUnitPrice: "Maximum price" };
const WINDOW_CHOICES = 12;

const kw = (text: string) => (text.trim() === "" ? undefined : Math.round(Number(text) * 1000));

const RequestDialog = ({ context, onClose, onDone }: { context: FlexContext; onClose: () => void; onDone: (message: string) => void }) => {
  const trpc = useTRPC();
  const { user } = useMe();
  const now = useNow(5000);
  const [participantId, setParticipantId] = useState(context.participants[0]?.participantId ?? "");
  const nodeId = context.participants.find((p) => p.participantId === participantId)?.nodeId;
  const node = context.nodes.find((n) => n.nodeId === nodeId);
  const periodMs = node?.periodMs || 600_000;
  const firstWindow = (Math.floor(now / periodMs) + 2) * periodMs;
  const windows = Array.from({ length: WINDOW_CHOICES }, (_, i) => firstWindow + i * periodMs);
  const [form, setForm] = useState({ gridNodeId: node?.role === "DSO" ? (node.gridNodes[0] ?? "") : "", direction: "up", periodFrom: String(firstWindow), span: "1", quantityKw: "", minKw: "", maxPrice: "" });
  const verdict = useNodeVerdict();
  const [client, setClient] = useState<Record<string, string>>({});
  const create = useMutation(trpc.flex.requests.create.mutationOptions({ onSuccess: (answer) => verdict.onSuccess(() => onDone(`Request ${answer.command.target.split("/")[1]} placed.`))(answer) }));
  const { byField, other } = formErrors(create.error, LABELS, client);
  const set = (key: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));
  const submit = () => {
    verdict.clear();
    const checks = numberChecks({ quantityW: { text: form.quantityKw, required: true, min: 0.001 }, minQuantityW: { text: form.minKw }, maxUnitPrice: { text: form.maxPrice, required: true, max: 15_000 } });
    setClient(checks);
    if (Object.keys(checks).length) return;
    const periodFrom = Number(form.periodFrom);
    create.mutate({
      idempotencyKey: newIdempotencyKey(),
      ...(user.role === "admin" ? { participantId } : {}),
      ...(form.gridNodeId ? { gridNodeId: form.gridNodeId } : {}),
      direction: form.direction as "up" | "down",
      periodFrom,
      periodTo: periodFrom + Number(form.span) * periodMs,
      quantityW: kw(form.quantityKw)!,
      ...(form.minKw.trim() ? { minQuantityW: kw(form.minKw) } : {}),
      maxUnitPrice: Number(form.maxPrice),
    });
  };
  return (
    <FormDialog title="New flexibility request" submitLabel="Place request" onSubmit={submit} onClose={onClose} pending={create.isPending} errors={[...other, ...verdict.refused]} testId="flex-request-dialog" submitTestId="flex-request-submit">
      <div className="form-grid">
        {user.role === "admin" ? (
          <Field label="Participant" error={byField.participantId} name="participantId" hint="Admins act for the participant they choose.">
            {(c) => <Select {...c} value={participantId} onValue={setParticipantId} options={context.participants.map((p) => ({ value: p.participantId, label: `${p.participantId} (${p.nodeId})` }))} />}
          </Field>
        ) : (
          <Field label="Participant" hint="You act for your own participant.">
            {(c) => <input {...c} className="input mono" value={participantId} readOnly />}
          </Field>
        )}
        <Field label="Grid node" error={byField.gridNodeId} name="gridNodeId" hint={node?.role === "DSO" ? "A DSO buys from one of its grid nodes." : "Leave at any to buy from every grid node."}>
          {(c) => (
            <Select
              {...c}
              value={form.gridNodeId}
              onValue={set("gridNodeId")}
              options={node?.role === "DSO" ? node.gridNodes.map((g) => ({ value: g, label: g })) : optionsOf("Any grid node", node?.gridNodes ?? [])}
              data-testid="flex-request-grid"
            />
          )}
        </Field>
        <Field label="Direction" error={byField.direction} name="direction" hint="Up: less consumption or more feed-in. Down: the opposite.">
          {(c) => <Select {...c} value={form.direction} onValue={set("direction")} options={[{ value: "up", label: "Up" }, { value: "down", label: "Down" }]} data-testid="flex-request-direction" />}
        </Field>
        <Field label="Window" error={byField.periodFrom} name="periodFrom" hint="The first delivery window.">
          {(c) => <Select {...c} value={form.periodFrom} onValue={set("periodFrom")} options={windows.map((w) => ({ value: String(w), label: formatWindow(w, w + periodMs) }))} data-testid="flex-request-window" />}
        </Field>
        <Field label="Windows" error={byField.periodTo} name="periodTo">
          {(c) => <Select {...c} value={form.span} onValue={set("span")} options={[1, 2, 3, 4, 5, 6].map((n) => ({ value: String(n), label: String(n) }))} />}
        </Field>
        <Field label="Quantity (kW)" error={byField.quantityW} name="quantityW">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.quantityKw} onChange={(e) => set("quantityKw")(e.target.value)} data-testid="flex-request-quantity" />}
        </Field>
        <Field label="Minimum (kW, optional)" error={byField.minQuantityW} name="minQuantityW" hint="Less than this is not worth buying.">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.minKw} onChange={(e) => set("minKw")(e.target.value)} />}
        </Field>
        <Field label="Maximum price (€/MWh)" error={byField.maxUnitPrice} name="maxUnitPrice">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.maxPrice} onChange={(e) => set("maxPrice")(e.target.value)} data-testid="flex-request-price" />}
        </Field>
      </div>
    </FormDialog>
  );
};

const ReviseDialog = ({ request, onClose, onDone }: { request: FlexRequestRow; onClose: () => void; onDone: (message: string) => void }) => {
  const trpc = useTRPC();
  const [form, setForm] = useState({ quantityKw: String(request.quantityW / 1000), minKw: String(request.minQuantityW / 1000), maxPrice: String(request.maxUnitPrice) });
  const verdict = useNodeVerdict();
  const [client, setClient] = useState<Record<string, string>>({});
  const revise = useMutation(trpc.flex.requests.revise.mutationOptions({ onSuccess: verdict.onSuccess(() => onDone(`Request ${request.id} revised.`)) }));
  const { byField, other } = formErrors(revise.error, LABELS, client);
  const submit = () => {
    verdict.clear();
    const checks = numberChecks({ quantityW: { text: form.quantityKw, required: true, min: 0.001 }, minQuantityW: { text: form.minKw, required: true }, maxUnitPrice: { text: form.maxPrice, required: true, max: 15_000 } });
    setClient(checks);
    if (Object.keys(checks).length) return;
    const change = { quantityW: kw(form.quantityKw)!, minQuantityW: kw(form.minKw)!, maxUnitPrice: Number(form.maxPrice) };
    revise.mutate({ idempotencyKey: newIdempotencyKey(), nodeId: request.nodeId, requestId: request.id, revision: request.revision, ...change });
  };
  return (
    <FormDialog title={`Revise ${request.id}`} submitLabel="Save revision" onSubmit={submit} onClose={onClose} pending={revise.isPending} errors={[...other, ...verdict.refused]} testId="flex-revise-dialog" submitTestId="flex-revise-submit">
      <p className="muted">Revision {request.revision + 1}, based on revision {request.revision}. If the request changed meanwhile, the node refuses and you can try again.</p>
      <div className="form-grid">
        <Field label="Quantity (kW)" error={byField.quantityW} name="quantityW">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.quantityKw} onChange={(e) => setForm((f) => ({ ...f, quantityKw: e.target.value }))} data-testid="flex-revise-quantity" />}
        </Field>
        <Field label="Minimum (kW)" error={byField.minQuantityW} name="minQuantityW">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.minKw} onChange={(e) => setForm((f) => ({ ...f, minKw: e.target.value }))} />}
        </Field>
        <Field label="Maximum price (€/MWh)" error={byField.maxUnitPrice} name="maxUnitPrice">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.maxPrice} onChange={(e) => setForm((f) => ({ ...f, maxPrice: e.target.value }))} />}
        </Field>
      </div>
    </FormDialog>
  );
};

const CancelDialog = ({ request, onClose, onDone }: { request: FlexRequestRow; onClose: () => void; onDone: (message: string) => void }) => {
  const trpc = useTRPC();
  const verdict = useNodeVerdict();
  const cancel = useMutation(trpc.flex.requests.cancel.mutationOptions({ onSuccess: verdict.onSuccess(() => onDone(`Request ${request.id} cancelled.`)) }));
  return (
    <ConfirmDialog
      title={`Cancel ${request.id}?`}
      confirmLabel="Cancel request"
      onConfirm={() => cancel.mutate({ idempotencyKey: newIdempotencyKey(), nodeId: request.nodeId, requestId: request.id })}
      onClose={onClose}
      pending={cancel.isPending}
      error={cancel.error ?? (verdict.refused[0] ? new Error(verdict.refused[0]) : undefined)}
      testId="flex-cancel-dialog"
      confirmTestId="flex-cancel-confirm"
    >
      <p>The node keeps the request as a cancelled revision; it takes no part in later rounds.</p>
    </ConfirmDialog>
  );
};

type Revision = RouterOutputs["flex"]["requests"]["get"]["revisions"][number];
const revisionColumn = createColumnHelper<Revision>();
const revisionColumns = [
  revisionColumn.accessor("revision", { header: "Revision", meta: { className: "num" } }),
  revisionColumn.accessor("status", { header: "Status", cell: ({ getValue }) => <FlexStatus status={getValue()} /> }),
  revisionColumn.accessor("quantityW", { header: "Quantity", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  revisionColumn.accessor("minQuantityW", { header: "Minimum", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  revisionColumn.accessor("maxUnitPrice", { header: "Max price", meta: { className: "num" }, cell: ({ getValue }) => formatPrice(getValue()) }),
  revisionColumn.accessor("periodFrom", { header: "Window", meta: { className: "mono nowrap" }, cell: ({ row: { original: r } }) => formatWindow(r.periodFrom, r.periodTo) }),
  revisionColumn.accessor("updatedAt", { header: "At", cell: ({ getValue }) => formatDateTime(getValue()) }),
];

/** Every revision of one request, from its node (re-read whenever the live revision or status moves). */
const Revisions = ({ request }: { request: FlexRequestRow }) => {
  const trpc = useTRPC();
  const detail = useQuery(trpc.flex.requests.get.queryOptions({ nodeId: request.nodeId, requestId: request.id }, { staleTime: 0 }));
  const { refetch } = detail;
  useEffect(() => {
    void refetch();
  }, [request.revision, request.status, refetch]);
  return (
    <section className="section" aria-label={`Revisions of ${request.id}`}>
      <h2>Revisions of {request.id}</h2>
      <DataTable
        label="Revisions"
        columns={revisionColumns}
        rows={[...(detail.data?.revisions ?? [])].reverse()}
        rowId={(r) => String(r.revision)}
        rowAttrs={(r) => ({ "data-testid": `flex-revision-${r.revision}` })}
        status={{ loading: detail.isPending, error: detail.error, retry: () => void refetch() }}
        noun="revisions"
        empty={{ title: "No revisions" }}
        sortParam={false}
        testId="flex-revisions"
      />
    </section>
  );
};

const column = createColumnHelper<FlexRequestRow>();

type Open = { kind: "new" } | { kind: "revise" | "cancel"; request: FlexRequestRow } | null;

/** A trader's own requests (everyone else: every request), live, with create / revise / cancel. */
export const RequestsView = () => {
  const { user, can } = useMe();
  const context = useFlexContext();
  const live = useFlexRequests();
  const url = useUrlState(FILTERS);
  // The chosen request is not a filter: "Clear filters" leaves it.
  const chosen = useUrlState(["request"] as const);
  const notice = useNotice();
  const [open, setOpen] = useState<Open>(null);
  const canTrade = can("flex.trade") && (context.data?.participants.length ?? 0) > 0;
  const status = oneOf(STATUSES, url.values.status);
  const rows = [...live.items.values()].filter((r) => !status || r.status === status).sort((a, b) => b.receivedAt - a.receivedAt);
  const selected = rows.find((r) => `${r.nodeId}/${r.id}` === chosen.values.request);
  const done = (message: string) => {
    setOpen(null);
    notice.show(message);
  };

  const columns = [
    column.accessor("id", { header: "Request", meta: { className: "mono" } }),
    ...(user.role === "trader" ? [] : [column.accessor("buyerId", { header: "Buyer", meta: { className: "mono" } })]),
    column.accessor("nodeId", { header: "Node", meta: { className: "mono" } }),
    column.accessor((r) => r.gridNodeId ?? "any", { id: "grid", header: "Grid node", meta: { className: "mono" } }),
    column.accessor("direction", { header: "Direction", cell: ({ getValue }) => <DirectionLabel direction={getValue()} /> }),
    column.accessor("periodFrom", { header: "Window", meta: { className: "mono nowrap" }, cell: ({ row: { original: r } }) => formatWindow(r.periodFrom, r.periodTo) }),
    column.accessor("quantityW", { header: "Quantity", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("maxUnitPrice", { header: "Max price", meta: { className: "num" }, cell: ({ getValue }) => formatPrice(getValue()) }),
    column.accessor("revision", { header: "Rev.", meta: { className: "num" } }),
    column.accessor("status", { header: "Status", cell: ({ getValue }) => <FlexStatus status={getValue()} /> }),
    ...(canTrade
      ? [
          column.display({
            id: "actions",
            header: "Actions",
            meta: { srOnly: true },
            cell: ({ row: { original: r } }) =>
              r.status === "active" && (user.role === "admin" || r.buyerId === user.participantId) ? (
                <span className="actions">
                  <button type="button" className="btn btn-sm" onClick={(e) => (e.stopPropagation(), setOpen({ kind: "revise", request: r }))} data-testid={`flex-revise-${r.id}`}>
                    Revise
                  </button>
                  <button type="button" className="btn btn-sm btn-danger" onClick={(e) => (e.stopPropagation(), setOpen({ kind: "cancel", request: r }))} data-testid={`flex-cancel-${r.id}`}>
                    Cancel
                  </button>
                </span>
              ) : null,
          }),
        ]
      : []),
  ];

  return (
    <>
      <PageHeader
        title={user.role === "trader" ? "My requests" : "Requests"}
        description={user.role === "trader" ? `Flexibility requests of ${user.participantId ?? "your participant"}, live from the node.` : "Every participant's flexibility requests, live from the nodes."}
        primary={canTrade && context.data ? { label: "New request", onClick: () => setOpen({ kind: "new" }) } : undefined}
        actions={<LiveIndicator state={live.state} />}
      />
      <FlexNav />
      <Notice notice={notice} testId="flex-notice" />
      {context.isError ? (
        <div className="alert alert-info" role="status" data-testid="flex-off">
          <p>{errorMessage(context.error)}</p>
        </div>
      ) : null}
      {can("flex.trade") && context.data && context.data.participants.length === 0 ? (
        <div className="alert alert-warn" role="status">
          <p>Your account is not linked to a market participant the console can act for, so you can read but not trade.</p>
        </div>
      ) : null}

      <div className="section">
        <FilterBar label="Filter requests" onClear={url.clear} canClear={url.any}>
          <SelectFilter label="Status" value={status ?? ""} onChange={(v) => url.set({ status: v })} options={optionsOf("Any status", STATUSES)} testId="flex-filter-status" />
        </FilterBar>
      </div>

      <DataTable
        label="Requests"
        columns={columns}
        rows={rows}
        rowId={(r) => `${r.nodeId}/${r.id}`}
        rowHref={(r) => `/flex/requests?${new URLSearchParams({ ...(status ? { status } : {}), request: `${r.nodeId}/${r.id}` })}`}
        rowAttrs={(r) => ({ "data-testid": `flex-request-${r.id}`, "data-status": r.status, "data-revision": r.revision })}
        status={{ loading: !live.received && !context.isError }}
        noun="requests"
        empty={url.any ? { title: "No request matches this filter" } : { title: "No requests yet", hint: canTrade ? "Place one with New request." : "Requests appear here as traders place them." }}
        sortParam="sort"
        testId="flex-requests"
      />

      {selected ? <Revisions request={selected} /> : null}

      {open?.kind === "new" && context.data ? <RequestDialog context={context.data} onClose={() => setOpen(null)} onDone={done} /> : null}
      {open?.kind === "revise" ? <ReviseDialog request={open.request} onClose={() => setOpen(null)} onDone={done} /> : null}
      {open?.kind === "cancel" ? <CancelDialog request={open.request} onClose={() => setOpen(null)} onDone={done} /> : null}
    </>
  );
};
