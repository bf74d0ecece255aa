"use client";

import { useMutation } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import { LiveIndicator } from "../../_components/badges";
import { formatDateTime } from "../../_components/format";
import { useMe } from "../../_components/session";
import { DataTable } from "../../_components/ui/data-table";
import { useLiveFeed } from "../../_components/ui/live-feed";
import { ConfirmDialog, FormDialog } from "../../_components/ui/dialog";
import { Field, Select } from "../../_components/ui/field";
import { formErrors } from "../../_components/ui/messages";
import { Notice, PageHeader, useNotice } from "../../_components/ui/page-header";
import { FlexNav } from "../_components/flex-nav";
import { formatW } from "../_components/format";
import { numberChecks } from "../_components/node-verdict";
import { useFlexContext, type FlexContext } from "../_components/use-flex";

type Bridge = RouterOutputs["flex"]["bridge"]["list"][number];
const LABELS = { stationId: "Station id", nodeId: "Flex node", gridNodeId: "Grid node", maxPowerW: "Station limit", unitPrice: "Offer price" };

const BridgeDialog = ({ context, onClose, onDone }: { context: FlexContext; onClose: () => void; onDone: (message: string) => void }) => {
  const trpc = useTRPC();
  const [form, setForm] = useState({ stationId: "", nodeId: context.nodes[0]?.nodeId ?? "", gridNodeId: context.nodes[0]?.gridNodes[0] ?? "", maxKw: "11", price: "120" });
  const [client, setClient] = useState<Record<string, string>>({});
  const start = useMutation(trpc.flex.bridge.start.mutationOptions({ onSuccess: (b) => onDone(`Station ${b.stationId} is in the market as ${b.deviceId}.`) }));
  const { byField, other } = formErrors(start.error, LABELS, client);
  const node = context.nodes.find((n) => n.nodeId === form.nodeId);
  const submit = () => {
    const checks = { ...numberChecks({ maxPowerW: { text: form.maxKw, required: true, min: 1 }, unitPrice: { text: form.price, required: true, max: 15_000 } }), ...(form.stationId.trim() ? {} : { stationId: "Required." }) };
    setClient(checks);
    if (Object.keys(checks).length) return;
    start.mutate({ stationId: form.stationId.trim(), nodeId: form.nodeId, gridNodeId: form.gridNodeId, maxPowerW: Math.round(Number(form.maxKw) * 1000), unitPrice: Number(form.price) });
  };
  return (
    <FormDialog title="Bring a charge station into the market" submitLabel="Start bridge" onSubmit={submit} onClose={onClose} pending={start.isPending} errors={other} testId="flex-bridge-dialog" submitTestId="flex-bridge-submit">
      <p className="muted">The station becomes an EV-charger device: it offers what it can charge less (or more) than now, and an activation limits it with a charging profile through the charging command path.</p>
      <div className="form-grid">
        <Field label="Station id" error={byField.stationId} name="stationId" hint="As the CSMS knows it, e.g. SIM00001.">
          {(c) => <input {...c} className="input mono" value={form.stationId} onChange={(e) => setForm((f) => ({ ...f, stationId: e.target.value }))} data-testid="flex-bridge-station" />}
        </Field>
        <Field label="Flex node" error={byField.nodeId} name="nodeId">
          {(c) => (
            <Select {...c} value={form.nodeId} onValue={(nodeId) => setForm((f) => ({ ...f, nodeId, gridNodeId: context.nodes.find((n) => n.nodeId === nodeId)?.gridNodes[0] ?? "" }))} options={context.nodes.map((n) => ({ value: n.nodeId, label: `${n.nodeId} (${n.role ?? "…"})` }))} />
          )}
        </Field>
        <Field label="Grid node" error={byField.gridNodeId} name="gridNodeId">
          {(c) => <Select {...c} value={form.gridNodeId} onValue={(gridNodeId) => setForm((f) => ({ ...f, gridNodeId }))} options={(node?.gridNodes ?? []).map((g) => ({ value: g, label: g }))} />}
        </Field>
        <Field label="Station limit (kW)" error={byField.maxPowerW} name="maxPowerW" hint="Its own maximum; the profile returns to it when an activation ends.">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.maxKw} onChange={(e) => setForm((f) => ({ ...f, maxKw: e.target.value }))} />}
        </Field>
        <Field label="Offer price (€/MWh)" error={byField.unitPrice} name="unitPrice">
          {(c) => <input {...c} className="input" inputMode="decimal" value={form.price} onChange={(e) => setForm((f) => ({ ...f, price: e.target.value }))} />}
        </Field>
      </div>
    </FormDialog>
  );
};

const column = createColumnHelper<Bridge>();
const bridgeKey = (b: Bridge) => b.stationId;

/** Charge stations bridged into the flex market: what each offers, is limited to, and did. */
export const EvChargersView = () => {
  const trpc = useTRPC();
  const { can } = useMe();
  const context = useFlexContext();
  const live = useLiveFeed<Bridge>({ keyOf: bridgeKey, subscribe: (onData) => trpc.flex.bridge.onChange.subscriptionOptions(undefined, { onData }) });
  const notice = useNotice();
  const [open, setOpen] = useState(false);
  const [stopping, setStopping] = useState<Bridge | null>(null);
  const stop = useMutation(
    trpc.flex.bridge.stop.mutationOptions({
      onSuccess: (b) => {
        setStopping(null);
        notice.show(`Station ${b.stationId} left the market.`);
      },
    }),
  );
  const canBridge = can("flex.bridge");
  const columns = [
    column.accessor("stationId", { header: "Station", meta: { className: "mono" } }),
    column.accessor("deviceId", { header: "Device", meta: { className: "mono" } }),
    column.accessor((b) => `${b.nodeId} · ${b.gridNodeId}`, { id: "where", header: "Node · grid node", meta: { className: "mono" } }),
    column.accessor("connected", { header: "Broker", cell: ({ getValue }) => <span className={`badge ${getValue() ? "badge-ok" : "badge-danger"}`}>{getValue() ? "online" : "offline"}</span> }),
    column.accessor("meteredW", { header: "Metered", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
    column.accessor("limitW", { header: "Limit sent", meta: { className: "num" }, cell: ({ getValue }) => (getValue() === null ? "its own" : formatW(getValue())) }),
    column.accessor("activations", { header: "Activations", meta: { className: "num" } }),
    column.accessor((b) => Object.values(b.refused).reduce((a, n) => a + n, 0), { id: "refused", header: "Refused", meta: { className: "num" } }),
    column.accessor("commands", { header: "Profiles sent", meta: { className: "num" } }),
    column.accessor((b) => b.lastError ?? b.lastCommandStatus ?? "—", { id: "last", header: "Last", meta: { className: "truncate" } }),
    column.accessor("startedAt", { header: "Started", cell: ({ row: { original: b } }) => `${formatDateTime(b.startedAt)} by ${b.startedBy}` }),
    ...(canBridge
      ? [
          column.display({
            id: "actions",
            header: "Actions",
            meta: { srOnly: true },
            cell: ({ row: { original: b } }) => (
              <button type="button" className="btn btn-sm btn-danger" onClick={() => setStopping(b)} data-testid={`flex-bridge-stop-${b.stationId}`}>
                Stop
              </button>
            ),
          }),
        ]
      : []),
  ];
  return (
    <>
      <PageHeader
        title="EV chargers in the market"
        description="Charge stations of the CSMS that take part in the flex market as EV-charger devices."
        actions={<LiveIndicator state={live.state} />}
        primary={canBridge && context.data ? { label: "Bridge a station", onClick: () => setOpen(true) } : undefined}
      />
      <FlexNav />
      <Notice notice={notice} testId="flex-notice" />
      <DataTable
        label="Bridged stations"
        columns={columns}
        rows={[...live.items.values()].sort((a, b) => a.stationId.localeCompare(b.stationId))}
        rowId={bridgeKey}
        status={{ loading: !live.received }}
        noun="bridged stations"
        empty={{ title: "No station is bridged", hint: canBridge ? "Bring one in with Bridge a station." : "An operator can bring charge stations into the market." }}
        sortParam={false}
        testId="flex-bridges"
      />
      {open && context.data ? (
        <BridgeDialog
          context={context.data}
          onClose={() => setOpen(false)}
          onDone={(m) => {
            setOpen(false);
            notice.show(m);
          }}
        />
      ) : null}
      {stopping ? (
        <ConfirmDialog title={`Stop bridging ${stopping.stationId}?`} confirmLabel="Stop bridge" onConfirm={() => stop.mutate({ stationId: stopping.stationId })} onClose={() => setStopping(null)} pending={stop.isPending} error={stop.error}>
          <p>Its offers are withdrawn, the device goes offline, and a limit the bridge set goes back to the station&apos;s own.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
};
