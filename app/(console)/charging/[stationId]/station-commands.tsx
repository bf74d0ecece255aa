"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/contracts/console/commands";
import type { CommandAction, StationView } from "@/contracts/csms";
import { COMMAND_LABELS, type CommandSpec } from "@/contracts/csms/commands";
import { CommandButton, type CommandDialogApi, type SubmitCommand } from "../../_components/ui/command-button";
import { FormDialog } from "../../_components/ui/dialog";
import { formErrors } from "../../_components/ui/messages";
import { buildSpec, CommandParamsFields, initialParams, type ParamState } from "../_components/command-params";

type ButtonDef = { id: string; label: string; action: CommandAction; params?: CommandSpec["params"]; confirm?: boolean };

const BUTTONS: ButtonDef[] = [
  { id: "reset-soft", label: "Reset (soft)", action: "reset", params: { type: "soft" } },
  { id: "reset-hard", label: "Reset (hard)", action: "reset", params: { type: "hard" }, confirm: true },
  { id: "unlock", label: "Unlock connector", action: "unlockConnector" },
  { id: "availability", label: "Change availability", action: "changeAvailability" },
  { id: "remote-start", label: "Remote start", action: "remoteStart" },
  { id: "remote-stop", label: "Remote stop", action: "remoteStop" },
  { id: "trigger", label: "Trigger message", action: "triggerMessage" },
  { id: "clear-cache", label: "Clear cache", action: "clearCache", params: {} },
  { id: "get-configuration", label: "Get configuration", action: "getConfiguration", params: {} },
];

/** The station's own connector and transaction, so the common case needs no typing. */
const prefill = (action: CommandAction, station: StationView | undefined): ParamState => {
  const p = initialParams(action);
  const first = station?.connectors[0];
  if ("connectorId" in p && first && action !== "changeAvailability") p.connectorId = String(first.connectorId);
  if ("evseId" in p && first && station?.protocol === "ocpp2.0.1" && action !== "changeAvailability") p.evseId = String(first.evseId);
  if (action === "remoteStop" && station?.activeTransactionIds[0]) p.transactionId = station.activeTransactionIds[0];
  return p;
};

/** The parameters of one command, checked with the command catalogue's schema before sending. */
const ParamsDialog = ({ def, station, api, submit }: { def: ButtonDef; station?: StationView; api: CommandDialogApi; submit: (spec: CommandSpec) => SubmitCommand }) => {
  const [params, setParams] = useState<ParamState>(() => prefill(def.action, station));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { other } = formErrors(api.error, {});
  const send = () => {
    const { spec, errors: errs } = buildSpec(def.action, params);
    setErrors(errs);
    if (spec) api.send(submit(spec));
  };
  return (
    <FormDialog
      title={def.label}
      submitLabel={`Send ${COMMAND_LABELS[def.action].toLowerCase()}`}
      onSubmit={send}
      onClose={api.close}
      pending={api.pending}
      errors={other}
      testId={`command-dialog-${def.id}`}
      submitTestId="command-dialog-send"
    >
      <CommandParamsFields action={def.action} value={params} onChange={setParams} errors={errors} />
    </FormDialog>
  );
};

/**
 * The station's command buttons (support and admins): each says, in words, what became of
 * the last command it sent, live from the command feed.
 */
export const StationCommands = ({ stationId, station, onOutcome }: { stationId: string; station?: StationView; onOutcome: (c: CommandView) => void }) => {
  const trpc = useTRPC();
  const mutation = useMutation(trpc.charging.commands.send.mutationOptions());
  const submit =
    (spec: CommandSpec, confirm?: boolean): SubmitCommand =>
    (idempotencyKey) =>
      mutation.mutateAsync({ ...spec, stationId, idempotencyKey, confirm } as never);

  return (
    <div className="card" data-testid="station-commands">
      <div className="card-head">
        <h2>Commands</h2>
      </div>
      <div className="card-body">
        <div className="command-grid">
          {BUTTONS.map((def) => {
            const fixed = def.params ? ({ action: def.action, params: def.params } as CommandSpec) : null;
            return (
              <CommandButton
                key={def.id}
                id={def.id}
                label={def.label}
                tone={def.confirm ? "danger" : undefined}
                submit={fixed ? submit(fixed, def.confirm) : undefined}
                confirm={
                  def.confirm
                    ? {
                        title: `${def.label}?`,
                        confirmLabel: "Hard reset",
                        body: (
                          <p>
                            A hard reset reboots <strong className="mono">{stationId}</strong> at once: every charging session there stops without a clean end. Use a soft reset unless the
                            station is stuck.
                          </p>
                        ),
                      }
                    : undefined
                }
                dialog={fixed ? undefined : (api) => <ParamsDialog def={def} station={station} api={api} submit={(spec) => submit(spec)} />}
                onOutcome={onOutcome}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
};
