"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/contracts/console/commands";
import type { CommandAction, ProtocolVersion, StationView } from "@/contracts/csms";
import { COMMAND_LABELS, type CommandSpec } from "@/contracts/csms/commands";
import { CommandButton, type CommandDialogApi, type SubmitCommand } from "../../_components/ui/command-button";
import { CommandDetails } from "../../_components/ui/command-details";
import { FormDialog } from "../../_components/ui/dialog";
import { formErrors } from "../../_components/ui/messages";
import { actionLabel, buildSpec, CommandParamsFields, initialParams, type ParamState, type StationCatalogue } from "../_components/command-params";

type ButtonDef = { id: string; label: string; action: CommandAction; params?: CommandSpec["params"]; confirm?: boolean };

const COMMON: ButtonDef[] = [
  { id: "reset-soft", label: "Reset (soft)", action: "reset", params: { type: "soft" } },
  { id: "reset-hard", label: "Reset (hard)", action: "reset", params: { type: "hard" }, confirm: true },
  { id: "unlock", label: "Unlock connector", action: "unlockConnector" },
  { id: "availability", label: "Change availability", action: "changeAvailability" },
  { id: "remote-start", label: "Remote start", action: "remoteStart" },
  { id: "remote-stop", label: "Remote stop", action: "remoteStop" },
  { id: "trigger", label: "Trigger message", action: "triggerMessage" },
  { id: "clear-cache", label: "Clear cache", action: "clearCache", params: {} },
  { id: "charging-profile", label: "Set charging profile", action: "setChargingProfile" },
];

/** The buttons for a station of `protocol`: configuration is keys in 1.6 and variables in 2.0.1. */
const buttonsFor = (protocol: ProtocolVersion | null | undefined): ButtonDef[] => [
  ...COMMON,
  { id: "change-configuration", label: actionLabel("changeConfiguration", protocol), action: "changeConfiguration" },
  { id: "get-configuration", label: actionLabel("getConfiguration", protocol, COMMAND_LABELS.getConfiguration), action: "getConfiguration" },
];

/** The station's own connector and transaction, so the common case needs no typing. */
const prefill = (action: CommandAction, station: StationView | undefined): ParamState => {
  const p = initialParams(action, station?.protocol);
  const first = station?.connectors[0];
  if ("connectorId" in p && first && action !== "changeAvailability") p.connectorId = String(first.connectorId);
  if ("evseId" in p && first && station?.protocol === "ocpp2.0.1" && action !== "changeAvailability") p.evseId = String(first.evseId);
  if (action === "remoteStop" && station?.activeTransactionIds[0]) p.transactionId = station.activeTransactionIds[0];
  return p;
};

/** The parameters of one command, checked with the command catalogue's schema before sending. */
const ParamsDialog = ({
  def,
  station,
  catalogue,
  api,
  submit,
}: {
  def: ButtonDef;
  station?: StationView;
  catalogue: StationCatalogue;
  api: CommandDialogApi;
  submit: (spec: CommandSpec) => SubmitCommand;
}) => {
  const [params, setParams] = useState<ParamState>(() => prefill(def.action, station));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { other } = formErrors(api.error, {});
  const send = () => {
    const { spec, errors: errs } = buildSpec(def.action, params, catalogue.protocol);
    setErrors(errs);
    if (spec) api.send(submit(spec));
  };
  return (
    <FormDialog
      title={def.label}
      submitLabel={`Send ${def.label.toLowerCase()}`}
      onSubmit={send}
      onClose={api.close}
      pending={api.pending}
      errors={other}
      testId={`command-dialog-${def.id}`}
      submitTestId="command-dialog-send"
    >
      <CommandParamsFields action={def.action} value={params} onChange={setParams} errors={errors} catalogue={catalogue} />
    </FormDialog>
  );
};

/**
 * The station's command buttons (support and admins): each says, in words, what became of
 * the last command it sent, live from the command feed.
 */
export const StationCommands = ({
  stationId,
  station,
  catalogue,
  onOutcome,
}: {
  stationId: string;
  station?: StationView;
  /** The station's version and the keys it reported, for the forms. */
  catalogue: StationCatalogue;
  onOutcome: (c: CommandView) => void;
}) => {
  const trpc = useTRPC();
  const [last, setLast] = useState<CommandView | null>(null);
  const outcome = (c: CommandView) => {
    setLast(c);
    onOutcome(c);
  };
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
          {buttonsFor(catalogue.protocol).map((def) => {
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
                dialog={fixed ? undefined : (api) => <ParamsDialog def={def} station={station} catalogue={catalogue} api={api} submit={(spec) => submit(spec)} />}
                onOutcome={outcome}
              />
            );
          })}
        </div>
        {last ? (
          <section aria-label="Last answer" style={{ marginTop: 16 }} data-testid="last-answer">
            <h3>Last answer</h3>
            <CommandDetails command={last} />
          </section>
        ) : null}
      </div>
    </div>
  );
};
