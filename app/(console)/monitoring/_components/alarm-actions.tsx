"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/contracts/console/commands";
import type { AlarmView } from "@/contracts/monitoring";
import { useMe } from "../../_components/session";
import { CommandButton, type CommandDialogApi } from "../../_components/ui/command-button";
import { FormDialog } from "../../_components/ui/dialog";
import { Field } from "../../_components/ui/field";
import { formErrors } from "../../_components/ui/messages";
import { ALARM_TYPE_LABELS } from "./monitoring-badges";

type Action = "acknowledge" | "clear";

const COPY: Record<Action, { label: string; title: string; submit: string; intro: string }> = {
  acknowledge: { label: "Acknowledge", title: "Acknowledge alarm", submit: "Acknowledge", intro: "You take ownership of this alarm; it stays active until its condition ends or it is cleared." },
  clear: { label: "Clear", title: "Clear alarm", submit: "Clear alarm", intro: "Clearing ends this alarm now. If the condition is still there, the next reading raises a new alarm." },
};

/** The comment form of one alarm action; the comment goes to the service with your name. */
const ActionDialog = ({ api, alarm, action, submit }: { api: CommandDialogApi; alarm: AlarmView; action: Action; submit: (comment: string, key: string) => Promise<{ command: CommandView }> }) => {
  const [comment, setComment] = useState("");
  const tooLong: Record<string, string> = comment.trim().length > 500 ? { comment: "Use at most 500 characters." } : {};
  const errors = formErrors(api.error, { comment: "Comment" }, tooLong);
  return (
    <FormDialog
      title={COPY[action].title}
      submitLabel={COPY[action].submit}
      tone={action === "clear" ? "danger" : "primary"}
      pending={api.pending}
      errors={errors.other}
      onClose={api.close}
      onSubmit={() => {
        if (Object.keys(tooLong).length) return;
        api.send((key) => submit(comment.trim(), key));
      }}
      testId={`alarm-${action}-dialog`}
      submitTestId={`alarm-${action}-submit`}
    >
      <p className="muted" style={{ marginTop: 0 }}>
        {ALARM_TYPE_LABELS[alarm.type]} on <span className="mono">{alarm.device}</span>: {alarm.message}. {COPY[action].intro}
      </p>
      <Field label="Comment (optional)" error={errors.byField.comment} name="comment" hint="Saved with the alarm, with your name and the time.">
        {(control) => <textarea {...control} className="input" rows={3} maxLength={600} value={comment} onChange={(e) => setComment(e.target.value)} data-testid={`alarm-${action}-comment`} />}
      </Field>
    </FormDialog>
  );
};

/**
 * Acknowledge and clear for one alarm, for roles with monitoring.command: each opens a form
 * for a comment, goes through the command path and says its outcome beside the button. A
 * button stays (disabled) once its action is done, so its outcome stays readable.
 */
export const AlarmActions = ({ alarm, onDone }: { alarm: AlarmView; onDone?: () => void }) => {
  const trpc = useTRPC();
  const { can } = useMe();
  const acknowledge = useMutation(trpc.monitoring.alarms.acknowledge.mutationOptions());
  const clear = useMutation(trpc.monitoring.alarms.clear.mutationOptions());
  if (!can("monitoring.command")) return null;
  const run = (action: Action) => (comment: string, idempotencyKey: string) =>
    (action === "acknowledge" ? acknowledge : clear).mutateAsync({ region: alarm.region, alarmId: alarm.id, comment: comment || undefined, idempotencyKey });
  return (
    <span className="actions" style={{ flexWrap: "nowrap", alignItems: "flex-start" }} data-testid={`alarm-actions-${alarm.id}`}>
      <CommandButton
          id={`ack-${alarm.id}`}
          label={COPY.acknowledge.label}
          testId={`alarm-ack-${alarm.id}`}
          statusTestId={`alarm-ack-status-${alarm.id}`}
                    dialog={(api) => <ActionDialog api={api} alarm={alarm} action="acknowledge" submit={run("acknowledge")} />}
          disabled={alarm.acknowledged}
          onOutcome={onDone}
        />
      <CommandButton
          id={`clear-${alarm.id}`}
          label={COPY.clear.label}
          tone="danger"
          testId={`alarm-clear-${alarm.id}`}
          statusTestId={`alarm-clear-status-${alarm.id}`}
                    dialog={(api) => <ActionDialog api={api} alarm={alarm} action="clear" submit={run("clear")} />}
          disabled={!alarm.active}
          onOutcome={onDone}
        />
    </span>
  );
};
