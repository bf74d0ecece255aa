"use client";

import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { isFinal, type CommandView } from "@/contracts/console/commands";
import { CommandStatusBadge, commandStatusLabel } from "../badges";
import { newIdempotencyKey } from "../idempotency";
import { useCommandFeed } from "./command-feed";
import { describeCommand, newer, type Outcome } from "./command-outcome";
import { ConfirmDialog } from "./dialog";
import { Spinner } from "./field";
import { errorMessage } from "./messages";

/** Sends one command with the idempotency key it is given; the routers answer `{ command }`. */
export type SubmitCommand = (idempotencyKey: string) => Promise<{ command: CommandView }>;

/**
 * One control action and its live outcome: `run` submits with a fresh idempotency key (one
 * per user action, so a double click or a retried request never sends twice), then the
 * command follows the live feed until it has an outcome.
 */
export const useCommand = () => {
  const { commands } = useCommandFeed();
  const [sent, setSent] = useState<CommandView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const run = useCallback(async (submit: SubmitCommand) => {
    setPending(true);
    setError(null);
    try {
      const { command } = await submit(newIdempotencyKey());
      setSent(command);
      return command;
    } catch (failure) {
      setError(failure);
      return null;
    } finally {
      setPending(false);
    }
  }, []);
  const clearError = useCallback(() => setError(null), []);
  const command = sent ? newer(sent, commands.get(sent.id)) : null;
  return { run, command, error, clearError, pending, busy: pending || (command !== null && !isFinal(command.status)) };
};

/** The words beside the status badge, when they say more than the badge ("Accepted" twice says nothing). */
const outcomeWords = (command: CommandView, describe: (c: CommandView) => Outcome) => {
  const text = describe(command).text;
  return text === commandStatusLabel(command.status) ? null : <span>{text}</span>;
};

/** The outcome line: a status badge and the words for it, announced as it changes. */
export const CommandOutcome = ({
  command,
  error,
  idle,
  describe = describeCommand,
  testId,
}: {
  command: CommandView | null;
  error?: unknown;
  idle?: ReactNode;
  describe?: (c: CommandView) => Outcome;
  testId?: string;
}) => (
  <span className="command-outcome" role="status" aria-live="polite" data-testid={testId} data-status={error ? "error" : (command?.status ?? "idle")}>
    {error ? (
      <span className="field-error">Not sent: {errorMessage(error)}</span>
    ) : command ? (
      <>
        <CommandStatusBadge status={command.status} />
        {outcomeWords(command, describe)}
      </>
    ) : (
      idle
    )}
  </span>
);

/** What a command button's own dialog (parameters) gets to send with. */
export type CommandDialogApi = { send: (submit: SubmitCommand) => void; close: () => void; pending: boolean; error: unknown };

type CommandButtonProps = {
  label: string;
  /** Sends at once (or after `confirm`). Leave out when `dialog` asks for parameters first. */
  submit?: SubmitCommand;
  /** A destructive action asks first; the dialog focuses Cancel. */
  confirm?: { title: string; body: ReactNode; confirmLabel: string };
  /** A form that collects parameters, then calls `send`. */
  dialog?: (api: CommandDialogApi) => ReactNode;
  tone?: "primary" | "danger";
  disabled?: boolean;
  /** Test ids: the button is `<testId>`, the outcome `<statusTestId>`, the confirm dialog `confirm-dialog-<id>`. */
  id: string;
  testId?: string;
  statusTestId?: string;
  idle?: ReactNode;
  describe?: (c: CommandView) => Outcome;
  /** Told once the command has its outcome. */
  onOutcome?: (c: CommandView) => void;
  layout?: "stack" | "inline";
};

/**
 * A button that sends a command and then says what became of it, in words, from the live
 * command feed: "Accepted", "Rejected by the station: TxInProgress", "Timed out: no answer
 * in 20 s". While the command is in flight the button does nothing (it stays focusable, so
 * focus returning from a dialog still lands on it).
 */
export const CommandButton = ({ label, submit, confirm, dialog, tone, disabled = false, id, testId, statusTestId, idle, describe, onOutcome, layout = "stack" }: CommandButtonProps) => {
  const { run, command, error, clearError, pending, busy } = useCommand();
  const [open, setOpen] = useState<"confirm" | "dialog" | null>(null);
  const close = () => setOpen(null);
  const send = (s: SubmitCommand) =>
    void run(s).then((sent) => {
      if (sent) close();
    });
  const click = () => {
    if (busy || disabled) return;
    clearError();
    if (dialog) setOpen("dialog");
    else if (confirm) setOpen("confirm");
    else if (submit) send(submit);
  };

  const onOutcomeRef = useRef(onOutcome);
  useEffect(() => {
    onOutcomeRef.current = onOutcome;
  });
  const finished = command && isFinal(command.status) ? command : null;
  useEffect(() => {
    if (finished) onOutcomeRef.current?.(finished);
    // Once per command that reaches its outcome.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finished?.id, finished?.status]);

  return (
    <span className={`command-cell command-cell-${layout}`}>
      <button
        type="button"
        className={`btn ${tone ? `btn-${tone}` : ""}`}
        onClick={click}
        aria-disabled={busy || disabled || undefined}
        disabled={disabled}
        data-testid={testId ?? `command-${id}`}
      >
        {pending ? <Spinner /> : null}
        {label}
      </button>
      <CommandOutcome command={command} error={open ? null : error} idle={idle} describe={describe} testId={statusTestId ?? `command-status-${id}`} />
      {open === "confirm" && confirm && submit ? (
        <ConfirmDialog
          title={confirm.title}
          confirmLabel={confirm.confirmLabel}
          onConfirm={() => send(submit)}
          onClose={close}
          pending={pending}
          error={error}
          testId={`confirm-dialog-${id}`}
          confirmTestId={`confirm-${id}`}
        >
          {confirm.body}
        </ConfirmDialog>
      ) : null}
      {open === "dialog" && dialog ? dialog({ send, close, pending, error }) : null}
    </span>
  );
};
