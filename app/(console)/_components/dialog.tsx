"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";

type Props = {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  /** Blocks Escape and the close button while something is in flight. */
  busy?: boolean;
};

/**
 * A modal on the native <dialog>: focus moves in and is trapped, Escape closes, and focus
 * returns to whatever opened it. Mount it to open it; unmount (via onClose) to close it.
 */
export const Dialog = ({ title, onClose, children, testId, busy = false }: Props) => {
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
