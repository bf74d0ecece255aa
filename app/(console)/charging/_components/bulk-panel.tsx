"use client";

import { useMutation } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { isFinal } from "@/contracts/console/commands";
import { COMMAND_ACTIONS, type CommandAction } from "@/contracts/csms";
import { COMMAND_LABELS, isDestructive, type CommandSpec } from "@/contracts/csms/commands";
import { CommandStatusBadge } from "../../_components/badges";
import { newIdempotencyKey } from "../../_components/idempotency";
import { useCommandFeed } from "../../_components/ui/command-feed";
import { describeCommand } from "../../_components/ui/command-outcome";
import { ConfirmDialog } from "../../_components/ui/dialog";
import { Field, FormAlert, Select, Spinner, toOptions } from "../../_components/ui/field";
import { formErrors } from "../../_components/ui/messages";
import { buildSpec, CommandParamsFields, initialParams, type ParamState } from "./command-params";

type Sent = { bulkId: string; commandIds: string[]; stationIds: string[]; action: CommandAction };

const plural = (n: number) => `${n} ${n === 1 ? "station" : "stations"}`;

/** A bulk command to more stations than this asks first, listing them. */
export const CONFIRM_BULK_ABOVE = 3;
const LISTED = 200;

/**
 * One command to every selected station, then live progress: n of m done, and every
 * station that did not accept with its reason in words. Outcomes come from the command feed.
 */
export const BulkPanel = ({ stationIds }: { stationIds: string[] }) => {
  const trpc = useTRPC();
  const { commands } = useCommandFeed();
  const [action, setAction] = useState<CommandAction>("reset");
  const [params, setParams] = useState<ParamState>(() => initialParams("reset"));
  const [confirm, setConfirm] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [sent, setSent] = useState<Sent | null>(null);
  const [asking, setAsking] = useState<{ spec: CommandSpec; ids: string[] } | null>(null);
  const mutation = useMutation(trpc.charging.commands.sendBulk.mutationOptions());

  const built = buildSpec(action, params);
  const destructive = built.spec ? isDestructive(built.spec) : false;
  const { other } = formErrors(mutation.error, {});

  const deliver = (spec: CommandSpec, ids: string[]) =>
    mutation.mutate({ ...spec, stationIds: ids, idempotencyKey: newIdempotencyKey(), confirm: destructive ? confirm : undefined } as never, {
      onSuccess: (r) => {
        setAsking(null);
        setSent({ ...r, stationIds: ids, action });
      },
    });
  const send = () => {
    const { spec, errors: errs } = buildSpec(action, params);
    setErrors(errs);
    if (!spec) return;
    const ids = [...stationIds];
    // The selection is a snapshot from here on: the dialog lists exactly what will be sent.
    if (ids.length > CONFIRM_BULK_ABOVE) setAsking({ spec, ids });
    else deliver(spec, ids);
  };

  const progress = useMemo(() => {
    if (!sent) return null;
    const rows = sent.commandIds.map((id, i) => ({ id, stationId: sent.stationIds[i] ?? "?", command: commands.get(id) }));
    const done = rows.filter((r) => r.command && isFinal(r.command.status));
    const failures = done.filter((r) => r.command!.status !== "accepted");
    return { rows, done: done.length, accepted: done.length - failures.length, failures };
  }, [sent, commands]);

  return (
    <div className="card" data-testid="bulk-panel">
      <div className="card-head">
        <h2>Bulk command</h2>
        <span className="muted">{plural(stationIds.length)} selected</span>
      </div>
      <div className="card-body">
        <form
          aria-label="Bulk command"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            send();
          }}
        >
          <FormAlert messages={other} />
          <div className="form-grid">
            <Field label="Action">
              {(c) => (
                <Select
                  {...c}
                  value={action}
                  onValue={(value) => {
                    const next = value as CommandAction;
                    setAction(next);
                    setParams(initialParams(next));
                    setErrors({});
                    setConfirm(false);
                  }}
                  options={toOptions(COMMAND_ACTIONS, (a) => COMMAND_LABELS[a])}
                  data-testid="bulk-action"
                />
              )}
            </Field>
          </div>
          <div style={{ marginTop: 10 }}>
            <CommandParamsFields action={action} value={params} onChange={setParams} errors={errors} />
          </div>
          {destructive ? (
            <div className="alert alert-warn" style={{ marginTop: 10 }}>
              <label className="check">
                <input type="checkbox" checked={confirm} onChange={(e) => setConfirm(e.target.checked)} data-testid="bulk-confirm" />
                I understand: a hard reset interrupts every charging session at {plural(stationIds.length)}.
              </label>
            </div>
          ) : null}
          <div className="status-line" style={{ marginTop: 10 }}>
            <button type="submit" className={`btn ${destructive ? "btn-danger" : "btn-primary"}`} disabled={mutation.isPending || (destructive && !confirm)} data-testid="bulk-send">
              {mutation.isPending ? <Spinner /> : null}
              Send to {plural(stationIds.length)}
            </button>
          </div>
        </form>

        {asking ? (
          <ConfirmDialog
            title={`${COMMAND_LABELS[asking.spec.action]} on ${plural(asking.ids.length)}?`}
            confirmLabel={`Send to ${plural(asking.ids.length)}`}
            onConfirm={() => deliver(asking.spec, asking.ids)}
            onClose={() => setAsking(null)}
            pending={mutation.isPending}
            error={mutation.error}
            tone={destructive ? "danger" : "primary"}
            testId="bulk-confirm-dialog"
            confirmTestId="bulk-confirm-send"
          >
            <p>
              {COMMAND_LABELS[asking.spec.action]} goes to each of these {plural(asking.ids.length)}, one command each:
            </p>
            <ul className="mono" style={{ maxHeight: 220, overflow: "auto", paddingLeft: 18, marginTop: 8 }} data-testid="bulk-confirm-list">
              {asking.ids.slice(0, LISTED).map((id) => (
                <li key={id}>{id}</li>
              ))}
              {asking.ids.length > LISTED ? <li>… and {asking.ids.length - LISTED} more</li> : null}
            </ul>
          </ConfirmDialog>
        ) : null}

        {sent && progress ? (
          <div style={{ marginTop: 14 }} role="status" aria-live="polite" data-testid="bulk-progress" data-done={progress.done} data-total={sent.commandIds.length} data-bulk-id={sent.bulkId}>
            <p>
              <strong>{COMMAND_LABELS[sent.action]}</strong>: {progress.done} of {sent.commandIds.length} done, {progress.accepted} accepted
              {progress.failures.length ? `, ${progress.failures.length} not accepted` : ""}.
            </p>
            <div className="progress" aria-hidden="true">
              <span style={{ width: `${sent.commandIds.length ? (100 * progress.done) / sent.commandIds.length : 0}%` }} />
            </div>
            {progress.failures.length ? (
              <ul data-testid="bulk-failures" style={{ marginTop: 8, paddingLeft: 18 }}>
                {progress.failures.slice(0, 200).map((r) => (
                  <li key={r.id} data-testid={`bulk-outcome-${r.stationId}`} data-status={r.command!.status}>
                    <span className="mono">{r.stationId}</span> <CommandStatusBadge status={r.command!.status} /> {describeCommand(r.command!).text}
                  </li>
                ))}
                {progress.failures.length > 200 ? <li>… and {progress.failures.length - 200} more (see Commands).</li> : null}
              </ul>
            ) : null}
            <details style={{ marginTop: 8 }}>
              <summary>Every station</summary>
              <ul style={{ paddingLeft: 18, maxHeight: 240, overflow: "auto" }}>
                {progress.rows.slice(0, 1000).map((r) => (
                  <li key={r.id} data-testid={`bulk-row-${r.stationId}`} data-status={r.command?.status ?? "sent"}>
                    <span className="mono">{r.stationId}</span> <CommandStatusBadge status={r.command?.status ?? "sent"} />
                  </li>
                ))}
              </ul>
            </details>
          </div>
        ) : null}
      </div>
    </div>
  );
};
