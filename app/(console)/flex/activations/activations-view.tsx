"use client";

import { useMutation } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "@/app/_trpc/client";
import { LiveIndicator } from "../../_components/badges";
import { formatDateTime, formatDuration } from "../../_components/format";
import { newIdempotencyKey } from "../../_components/idempotency";
import { useMe } from "../../_components/session";
import { DataTable } from "../../_components/ui/data-table";
import { FormDialog } from "../../_components/ui/dialog";
import { Field } from "../../_components/ui/field";
import { formErrors } from "../../_components/ui/messages";
import { Notice, PageHeader, useNotice } from "../../_components/ui/page-header";
import { useUrlState } from "../../_components/ui/url-state";
import { useNow } from "../../_components/use-now";
import { FlexNav } from "../_components/flex-nav";
import { clock, formatPrice, formatW, formatWindow } from "../_components/format";
import { numberChecks, useNodeVerdict } from "../_components/node-verdict";
import { DirectionLabel, FlexStatus } from "../_components/status";
import { useFlexSteps, useFlexTrades, type FlexStepRow, type FlexTradeRow } from "../_components/use-flex";

const LABELS = { setpointW: "Level" };
const tradeKey = (t: FlexTradeRow) => `${t.nodeId}/${t.id}`;

/** The LFC signal for one trade: the level asked of all its devices together (0 ends the activation). */
const SignalDialog = ({ trade, end, onClose, onDone }: { trade: FlexTradeRow; end: boolean; onClose: () => void; onDone: (message: string) => void }) => {
  const trpc = useTRPC();
  const [levelKw, setLevelKw] = useState(end ? "0" : String(trade.quantityW / 1000));
  const verdict = useNodeVerdict();
  const [client, setClient] = useState<Record<string, string>>({});
  const signal = useMutation(
    trpc.flex.activations.signal.mutationOptions({ onSuccess: verdict.onSuccess(() => onDone(end ? `Activation of ${trade.requestId} ended.` : `Activation of ${trade.requestId} sent: ${formatW(Number(levelKw) * 1000)}.`)) }),
  );
  const { byField, other } = formErrors(signal.error, LABELS, client);
  const submit = () => {
    verdict.clear();
    const checks = numberChecks({ setpointW: { text: levelKw, required: true, max: trade.quantityW / 1000, maxText: `At most ${formatW(trade.quantityW)}, what the trade covers.` } });
    setClient(checks);
    if (Object.keys(checks).length) return;
    signal.mutate({ idempotencyKey: newIdempotencyKey(), nodeId: trade.nodeId, tradeId: trade.id, setpointW: Math.round(Number(levelKw) * 1000) });
  };
  return (
    <FormDialog
      title={end ? `End the activation of ${trade.requestId}` : `Activate ${trade.requestId}`}
      submitLabel={end ? "End activation" : "Send signal"}
      tone={end ? "danger" : "primary"}
      onSubmit={submit}
      onClose={onClose}
      pending={signal.isPending}
      errors={[...other, ...verdict.refused]}
      testId="flex-signal-dialog"
      submitTestId="flex-signal-submit"
    >
      <p className="muted">
        The node splits the level over the trade&apos;s {trade.deviceCount} devices in merit order every step, signs each setpoint, and tracks the acks. It holds until the end of the window ({clock(trade.periodEnd)}).
      </p>
      <Field label="Level (kW)" error={byField.setpointW} name="setpointW" hint={`0 to ${formatW(trade.quantityW)}`}>
        {(c) => <input {...c} className="input" inputMode="decimal" value={levelKw} onChange={(e) => setLevelKw(e.target.value)} readOnly={end} data-testid="flex-signal-level" />}
      </Field>
    </FormDialog>
  );
};

/** Requested vs delivered per step (recharts). */
const StepChart = ({ steps }: { steps: FlexStepRow[] }) => {
  const data = steps.map((s) => ({ t: s.stepTs, requested: s.requestedW / 1000, delivered: s.deliveredW === null ? null : s.deliveredW / 1000 }));
  if (!data.length) return <div className="empty">No steps yet: send a signal to activate the trade.</div>;
  return (
    <figure className="chart-box" style={{ margin: 0, height: 220 }} aria-label="Requested and delivered power per step" data-testid="flex-step-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 6, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eceef2" />
          <XAxis dataKey="t" type="number" domain={["dataMin", "dataMax"]} tickFormatter={clock} fontSize={11} />
          <YAxis fontSize={11} width={64} unit=" kW" />
          <Tooltip labelFormatter={(v) => formatDateTime(Number(v))} formatter={(v, name) => [v === null ? "—" : `${Number(v).toFixed(2)} kW`, String(name)]} />
          <Legend />
          <Line type="stepAfter" dataKey="requested" stroke="#2563eb" dot={false} isAnimationActive={false} />
          <Line type="stepAfter" dataKey="delivered" stroke="#16a34a" dot={false} isAnimationActive={false} connectNulls />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
};

const stepColumn = createColumnHelper<FlexStepRow>();
const stepColumns = [
  stepColumn.accessor("stepTs", { header: "Step", meta: { className: "mono" }, cell: ({ getValue }) => clock(getValue()) }),
  stepColumn.accessor("requestedW", { header: "Requested", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  stepColumn.accessor("deliveredW", { header: "Delivered", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  stepColumn.accessor("devices", { header: "Devices", meta: { className: "num" } }),
  stepColumn.accessor("acked", { header: "Acked", meta: { className: "num" } }),
  stepColumn.accessor("late", { header: "Late", meta: { className: "num" }, cell: ({ getValue }) => (getValue() ? <span className="badge badge-warn">{getValue()}</span> : 0) }),
  stepColumn.accessor("rejected", { header: "Refused", meta: { className: "num" }, cell: ({ getValue }) => (getValue() ? <span className="badge badge-danger">{getValue()}</span> : 0) }),
  stepColumn.accessor("maxLatencyMs", { header: "Slowest ack", meta: { className: "num" }, cell: ({ getValue }) => (getValue() === null ? "—" : formatDuration(getValue())) }),
  stepColumn.accessor("closed", { header: "Closed", cell: ({ getValue }) => (getValue() ? "yes" : "open") }),
];

const tradeColumn = createColumnHelper<FlexTradeRow>();

type Open = { trade: FlexTradeRow; end: boolean } | null;

/**
 * Live activations: the caller's trades (everyone's for non-traders) with the LFC signal
 * for each, and for the chosen trade requested vs delivered per step, acks and late devices.
 */
export const ActivationsView = () => {
  const { user, can } = useMe();
  const trades = useFlexTrades();
  const url = useUrlState(["trade"] as const);
  const notice = useNotice();
  const now = useNow(2000);
  const [open, setOpen] = useState<Open>(null);
  const rows = [...trades.items.values()].sort((a, b) => b.period - a.period || a.requestId.localeCompare(b.requestId));
  const selected = rows.find((t) => tradeKey(t) === url.values.trade) ?? rows.find((t) => t.status === "activating") ?? rows[0];
  const steps = useFlexSteps(selected?.id);
  const stepRows = [...steps.items.values()].filter((s) => selected && s.nodeId === selected.nodeId && s.tradeId === selected.id).sort((a, b) => a.stepTs - b.stepTs);
  const canSignal = (t: FlexTradeRow) => can("flex.trade") && (user.role === "admin" || t.buyerId === user.participantId) && t.status !== "settled" && now < t.periodEnd;
  const latest = stepRows.at(-1);
  // Delivery is measured at the next step, so the newest step with a measurement is an earlier one.
  const measured = stepRows.findLast((s) => s.deliveredW !== null);

  const columns = [
    tradeColumn.accessor("period", { header: "Window", meta: { className: "mono nowrap" }, cell: ({ row: { original: t } }) => formatWindow(t.period, t.periodEnd) }),
    tradeColumn.accessor("requestId", { header: "Request", meta: { className: "mono" } }),
    ...(user.role === "trader" ? [] : [tradeColumn.accessor("buyerId", { header: "Buyer", meta: { className: "mono" } })]),
    tradeColumn.accessor("direction", { header: "Direction", cell: ({ getValue }) => <DirectionLabel direction={getValue()} /> }),
    tradeColumn.accessor("quantityW", { header: "Awarded", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    tradeColumn.accessor("clearingPrice", { header: "Price", meta: { className: "num" }, cell: ({ getValue }) => formatPrice(getValue()) }),
    tradeColumn.accessor("deviceCount", { header: "Devices", meta: { className: "num" } }),
    tradeColumn.accessor("status", { header: "Status", cell: ({ getValue }) => <FlexStatus status={getValue()} /> }),
    tradeColumn.display({
      id: "actions",
      header: "Actions",
      meta: { srOnly: true },
      cell: ({ row: { original: t } }) =>
        canSignal(t) ? (
          <span className="actions">
            <button type="button" className="btn btn-sm btn-primary" onClick={(e) => (e.stopPropagation(), setOpen({ trade: t, end: false }))} data-testid={`flex-activate-${t.requestId}`}>
              Activate…
            </button>
            {t.status === "activating" ? (
              <button type="button" className="btn btn-sm" onClick={(e) => (e.stopPropagation(), setOpen({ trade: t, end: true }))} data-testid={`flex-end-${t.requestId}`}>
                End
              </button>
            ) : null}
          </span>
        ) : null,
    }),
  ];

  return (
    <>
      <PageHeader title="Activations" description="Awarded trades, the activation level asked of each, and how the devices follow it, step by step." actions={<LiveIndicator state={steps.state} />} />
      <FlexNav />
      <Notice notice={notice} testId="flex-notice" />

      <DataTable
        label="Trades"
        columns={columns}
        rows={rows}
        rowId={tradeKey}
        rowHref={(t) => `/flex/activations?${new URLSearchParams({ trade: tradeKey(t) })}`}
        rowAttrs={(t) => ({ "data-testid": `flex-activation-trade-${t.requestId}`, "data-status": t.status, "aria-current": selected && tradeKey(t) === tradeKey(selected) ? "true" : undefined })}
        status={{ loading: !trades.received }}
        noun="trades"
        empty={{ title: "No trades yet", hint: "A trade appears when a request is matched at window sealing." }}
        sortParam={false}
        testId="flex-activation-trades"
      />

      {selected ? (
        <section className="section card" aria-labelledby="steps-title">
          <div className="card-head">
            <h2 id="steps-title">
              {selected.requestId}: {formatWindow(selected.period, selected.periodEnd)}
            </h2>
            <span className="muted" data-testid="flex-step-summary" data-acked={latest?.acked ?? 0} data-delivered={measured?.deliveredW ?? ""}>
              {latest ? `Last step ${clock(latest.stepTs)}: ${formatW(latest.requestedW)} asked of ${latest.devices} devices, ${latest.acked} acked, ${latest.late} late` : "Not activated yet"}
              {measured ? ` · delivered ${formatW(measured.deliveredW)} of ${formatW(measured.requestedW)} at ${clock(measured.stepTs)}` : ""}
            </span>
          </div>
          <div className="card-body">
            <StepChart steps={stepRows} />
          </div>
          <DataTable
            label="Activation steps"
            columns={stepColumns}
            rows={[...stepRows].reverse().slice(0, 100)}
            rowId={(s) => String(s.stepTs)}
            rowAttrs={(s) => ({ "data-testid": "flex-step", "data-acked": s.acked, "data-closed": s.closed })}
            status={{ loading: !steps.received }}
            noun="steps"
            empty={{ title: "No steps yet", hint: "Steps run every few seconds while the trade is activated." }}
            sortParam={false}
            bare
            dense
            maxHeight={320}
            testId="flex-steps"
          />
        </section>
      ) : null}

      {open ? <SignalDialog trade={open.trade} end={open.end} onClose={() => setOpen(null)} onDone={(m) => (setOpen(null), notice.show(m))} /> : null}
    </>
  );
};
