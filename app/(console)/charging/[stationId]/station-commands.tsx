"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { COMMAND_LABELS, type CommandSpec } from "@/contracts/csms/commands";
import type { CommandView } from "@/server/commands/command-feed";
import type { CommandAction, StationView } from "@/contracts/csms";
import { CommandStatusBadge, isFinalStatus as isFinal } from "../../_components/badges";
import { Dialog } from "../../_components/dialog";
import { errorMessage } from "../../_components/errors";
import { describeError, summarize } from "../../_components/format";
import { newIdempotencyKey } from "../../_components/idempotency";
import { useCommandFeed } from "../../_components/use-command-feed";
import { buildSpec, CommandParamsFields, initialParams, type ParamState } from "../_components/command-params";

type ButtonDef = { id: string; label: string; action: CommandAction; params?: CommandSpec["params"]; confirm?: boolean; danger?: boolean };

const BUTTONS: ButtonDef[] = [
  { id: "reset-soft", label: "Reset (soft)", action: "reset", params: { type: "soft" } },
  { id: "reset-hard", label: "Reset (hard)", action: "reset", params: { type: "hard" }, confirm: true, danger: true },
  { id: "unlock", label: "Unlock connector", action: "unlockConnector" },
  { id: "availability", label: "Change availability", action: "changeAvailability" },
  { id: "remote-start", label: "Remote start", action: "remoteStart" },
  { id: "remote-stop", label: "Remote stop", action: "remoteStop" },
  { id: "trigger", label: "Trigger message", action: "triggerMessage" },
  { id: "clear-cache", label: "Clear cache", action: "clearCache", params: {} },
  { id: "get-configuration", label: "Get configuration", action: "getConfiguration", params: {} },
];

const prefill = (action: CommandAction, station: StationView | undefined): ParamState => {
  const p = initialParams(action);
  const first = station?.connectors[0];
  if ("connectorId" in p && first && action !== "changeAvailability") p.connectorId = String(first.connectorId);
  if ("evseId" in p && first && station?.protocol === "ocpp2.0.1" && action !== "changeAvailability") p.evseId = String(first.evseId);
  if (action === "remoteStop" && station?.activeTransactionIds[0]) p.transactionId = station.activeTransactionIds[0];
  return p;
};

const ParamsDialog = ({ def, station, onSend, onClose, busy, error }: { def: ButtonDef; station?: StationView; onSend: (spec: CommandSpec) => void; onClose: () => void; busy: boolean; error: unknown }) => {
  const [params, setParams] = useState<ParamState>(() => prefill(def.action, station));
  const [errors, setErrors] = useState<Record<string, string>>({});
  return (
    <Dialog title={def.label} onClose={onClose} busy={busy} testId={`command-dialog-${def.id}`}>
      <form
        aria-label={def.label}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const { spec, errors: errs } = buildSpec(def.action, params);
          setErrors(errs);
          if (spec) onSend(spec);
        }}
      >
        <div className="dialog-body">
          {error ? (
            <div className="alert alert-error" role="alert">
              <p>{errorMessage(error)}</p>
            </div>
          ) : null}
          <CommandParamsFields action={def.action} value={params} onChange={setParams} errors={errors} />
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="command-dialog-send">
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            Send {COMMAND_LABELS[def.action].toLowerCase()}
          </button>
        </div>
      </form>
    </Dialog>
  );
};

const ConfirmDialog = ({ def, stationId, onConfirm, onClose, busy, error }: { def: ButtonDef; stationId: string; onConfirm: () => void; onClose: () => void; busy: boolean; error: unknown }) => (
  <Dialog title={`${def.label}?`} onClose={onClose} busy={busy} testId={`confirm-dialog-${def.id}`}>
    <form
      aria-label={def.label}
      onSubmit={(e) => {
        e.preventDefault();
        onConfirm();
      }}
    >
      <div className="dialog-body">
        {error ? (
          <div className="alert alert-error" role="alert">
            <p>{errorMessage(error)}</p>
          </div>
        ) : null}
        <p>
          A hard reset reboots <strong className="mono">{stationId}</strong> at once: every charging session there stops without a clean end. Use a soft reset
          unless the station is stuck.
        </p>
      </div>
      <div className="dialog-foot">
        <button type="button" className="btn" onClick={onClose} disabled={busy} autoFocus>
          Cancel
        </button>
        <button type="submit" className="btn btn-danger" disabled={busy} data-testid={`confirm-${def.id}`}>
          {busy ? <span className="spinner" aria-hidden="true" /> : null}
          Hard reset
        </button>
      </div>
    </form>
  </Dialog>
);

const resultText = (c: CommandView) => {
  if (c.error) return describeError(c.error);
  const response = (c.result as { response?: unknown } | null)?.response;
  return response === undefined || response === null ? "" : summarize(response, 120);
};

/**
 * The station's command buttons (support and admins): each shows the live status of the
 * last command it sent, pending → sent → accepted / rejected / failed / timed out.
 */
export const StationCommands = ({ stationId, station, onOutcome }: { stationId: string; station?: StationView; onOutcome: (c: CommandView) => void }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const feed = useCommandFeed(true);
  const [open, setOpen] = useState<ButtonDef | null>(null);
  const [sent, setSent] = useState<Record<string, CommandView>>({});
  const [lastButton, setLastButton] = useState<string | null>(null);
  const mutation = useMutation(trpc.charging.commands.send.mutationOptions());

  const send = (def: ButtonDef, spec: CommandSpec, confirm?: boolean) =>
    mutation.mutate({ ...spec, stationId, idempotencyKey: newIdempotencyKey(), confirm } as never, {
      onSuccess: ({ command }) => {
        setSent((prev) => ({ ...prev, [def.id]: command }));
        setLastButton(def.id);
        setOpen(null);
      },
    });

  const current = (id: string) => {
    const c = sent[id];
    return c ? (feed.commands.get(c.id) ?? c) : undefined;
  };
  const last = lastButton ? current(lastButton) : undefined;

  // Tell the page when a command finishes, so it can refresh what the command changed.
  const lastFinalId = last && isFinal(last.status) ? last.id : null;
  useEffect(() => {
    if (last && lastFinalId) onOutcome(last);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per finished command
  }, [lastFinalId]);
  useEffect(() => {
    if (lastFinalId) void queryClient.invalidateQueries(trpc.charging.stations.messages.pathFilter());
  }, [lastFinalId, queryClient, trpc]);

  return (
    <div className="card" data-testid="station-commands">
      <div className="card-head">
        <h2>Commands</h2>
      </div>
      <div className="card-body">
        <div className="command-grid">
          {BUTTONS.map((def) => {
            const c = current(def.id);
            return (
              <div className="command-cell" key={def.id}>
                <button
                  type="button"
                  className={`btn ${def.danger ? "btn-danger" : ""}`}
                  disabled={mutation.isPending || (c !== undefined && !isFinal(c.status))}
                  onClick={() => {
                    mutation.reset();
                    if (def.params && !def.confirm) send(def, { action: def.action, params: def.params } as CommandSpec);
                    else setOpen(def);
                  }}
                  data-testid={`command-${def.id}`}
                >
                  {def.label}
                </button>
                {c ? (
                  <span data-testid={`command-status-${def.id}`} data-status={c.status} title={resultText(c)}>
                    <CommandStatusBadge status={c.status} />
                  </span>
                ) : null}
              </div>
            );
          })}
        </div>
        <div role="status" aria-live="polite" style={{ marginTop: 12 }} data-testid="command-status" data-status={last?.status ?? "idle"} data-action={last?.action ?? ""}>
          {mutation.error && !open ? (
            <div className="alert alert-error">
              <p>{errorMessage(mutation.error)}</p>
            </div>
          ) : last ? (
            <span className="status-line">
              <CommandStatusBadge status={last.status} />
              <span>
                {BUTTONS.find((b) => b.id === lastButton)?.label}
                {resultText(last) ? `: ${resultText(last)}` : isFinal(last.status) ? "" : " — waiting for the station…"}
              </span>
            </span>
          ) : (
            <span className="muted">No command sent from this page yet.</span>
          )}
        </div>
      </div>
      {open && open.confirm ? (
        <ConfirmDialog
          def={open}
          stationId={stationId}
          busy={mutation.isPending}
          error={mutation.error}
          onClose={() => setOpen(null)}
          onConfirm={() => send(open, { action: open.action, params: open.params } as CommandSpec, true)}
        />
      ) : open ? (
        <ParamsDialog def={open} station={station} busy={mutation.isPending} error={mutation.error} onClose={() => setOpen(null)} onSend={(spec) => send(open, spec)} />
      ) : null}
    </div>
  );
};
