"use client";

import { useEffect, useId, useRef, type FormEvent, type ReactNode } from "react";
import { FormAlert, Spinner } from "./field";
import { errorMessage } from "./messages";

type DialogProps = {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  /** Blocks Escape and the close button while something is in flight. */
  busy?: boolean;
};

/** Where focus lands when a dialog opens: the marked element, else the first field, else the dialog. */
const focusInitial = (dialog: HTMLDialogElement) => {
  const target =
    dialog.querySelector<HTMLElement>("[data-autofocus]") ??
    dialog.querySelector<HTMLElement>(".dialog-body input:not([type=hidden]):not([readonly]):not([disabled]), .dialog-body select:not([disabled]), .dialog-body textarea") ??
    dialog;
  target.focus();
};

/**
 * A modal on the native <dialog>: focus moves in (see focusInitial) and is trapped, Escape
 * closes, and focus returns to whatever opened it. Mount it to open it; unmount (via
 * onClose) to close it.
 */
export const Dialog = ({ title, onClose, children, testId, busy = false }: DialogProps) => {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    focusInitial(dialog);
    return () => {
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid={testId}
      tabIndex={-1}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCloseRef.current();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={() => !busy && onClose()} disabled={busy}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
};

type FormDialogProps = {
  title: string;
  submitLabel: string;
  onSubmit: () => void;
  onClose: () => void;
  pending: boolean;
  /** Messages that belong to no field (see formErrors). */
  errors?: string[];
  tone?: "primary" | "danger";
  testId?: string;
  submitTestId?: string;
  children: ReactNode;
};

/**
 * A form in a dialog: fields in the body, Cancel and the submit button at the foot, the
 * form's own errors above the fields. Focus starts on the first field.
 */
export const FormDialog = ({ title, submitLabel, onSubmit, onClose, pending, errors = [], tone = "primary", testId, submitTestId, children }: FormDialogProps) => {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!pending) onSubmit();
  };
  return (
    <Dialog title={title} onClose={onClose} busy={pending} testId={testId}>
      <form onSubmit={submit} noValidate aria-busy={pending} aria-label={title}>
        <div className="dialog-body">
          <FormAlert messages={errors} />
          {children}
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={onClose} disabled={pending}>
            Cancel
          </button>
          <button type="submit" className={`btn btn-${tone}`} disabled={pending} data-testid={submitTestId}>
            {pending ? <Spinner /> : null}
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
};

type ConfirmDialogProps = {
  title: string;
  /** What happens, in a sentence or two. */
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  pending?: boolean;
  /** A failed attempt, said in words above the buttons. */
  error?: unknown;
  tone?: "primary" | "danger";
  testId?: string;
  confirmTestId?: string;
};

/**
 * "Are you sure?": focus starts on Cancel, the safe choice, so Enter or Escape right after
 * opening changes nothing.
 */
export const ConfirmDialog = ({ title, children, confirmLabel, onConfirm, onClose, pending = false, error, tone = "danger", testId, confirmTestId }: ConfirmDialogProps) => (
  <Dialog title={title} onClose={onClose} busy={pending} testId={testId}>
    <div className="dialog-body">
      <FormAlert messages={error ? [errorMessage(error)] : []} />
      {children}
    </div>
    <div className="dialog-foot">
      <button type="button" className="btn" onClick={onClose} disabled={pending} data-autofocus>
        Cancel
      </button>
      <button type="button" className={`btn btn-${tone}`} onClick={onConfirm} disabled={pending} data-testid={confirmTestId}>
        {pending ? <Spinner /> : null}
        {confirmLabel}
      </button>
    </div>
  </Dialog>
);

/** A one-time secret with a copy button and the warning that goes with it. */
export const SecretBox = ({ label, value, testId }: { label: string; value: string; testId?: string }) => {
  const inputRef = useRef<HTMLInputElement>(null);
  const statusRef = useRef<HTMLSpanElement>(null);
  const copy = async () => {
    inputRef.current?.select();
    let ok = false;
    try {
      await navigator.clipboard.writeText(value);
      ok = true;
    } catch {
      ok = document.execCommand?.("copy") ?? false;
    }
    if (statusRef.current) statusRef.current.textContent = ok ? "Copied." : "Select the text and copy it.";
  };
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="secret-box">
        <input ref={inputRef} id={id} className="input" readOnly value={value} onFocus={(e) => e.target.select()} data-testid={testId} />
        <button type="button" className="btn" onClick={copy}>
          Copy
        </button>
      </div>
      <span className="hint" role="status" ref={statusRef} />
      <div className="alert alert-warn">
        <p>This password is shown only once. Copy it now and hand it to the user over a secure channel.</p>
      </div>
    </div>
  );
};

/** The one-time secret after a create or reset, with Done focused. */
export const SecretDialog = ({ title, intro, label, value, onDone, testId }: { title: string; intro: ReactNode; label: string; value: string; onDone: () => void; testId?: string }) => (
  <Dialog title={title} onClose={onDone} testId={testId}>
    <div className="dialog-body">
      <p>{intro}</p>
      <SecretBox label={label} value={value} testId="generated-password" />
    </div>
    <div className="dialog-foot">
      <button type="button" className="btn btn-primary" onClick={onDone} data-autofocus>
        Done
      </button>
    </div>
  </Dialog>
);
