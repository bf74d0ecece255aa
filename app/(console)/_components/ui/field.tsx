"use client";

import { useId, type ReactNode, type SelectHTMLAttributes } from "react";

/** What a field hands its control so label, hint and error are wired to it. */
export type ControlProps = { id: string; "aria-invalid"?: true; "aria-describedby"?: string };

type FieldProps = {
  label: ReactNode;
  /** A sentence (see humanizeMessage); the control is marked invalid while it is set. */
  error?: string;
  hint?: ReactNode;
  /** Names the error for tests: `error-<name>`. */
  name?: string;
  className?: string;
  children: (control: ControlProps) => ReactNode;
};

const describedBy = (...ids: (string | false | undefined)[]) => ids.filter(Boolean).join(" ") || undefined;

/** A label, one control, an optional hint and the field's error, tied together for assistive tech. */
export const Field = ({ label, error, hint, name, className, children }: FieldProps) => {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(error ? { "aria-invalid": true } : {}), "aria-describedby": describedBy(Boolean(error) && errorId, Boolean(hint) && hintId) })}
      {hint ? (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="field-error" id={errorId} data-testid={name ? `error-${name}` : undefined}>
          {error}
        </span>
      ) : null}
    </div>
  );
};

/** A group of checkboxes or radios under one legend, with the group's error. */
export const FieldSet = ({ legend, error, name, className, children }: { legend: ReactNode; error?: string; name?: string; className?: string; children: ReactNode }) => {
  const errorId = `${useId()}-error`;
  return (
    <fieldset className={`field ${className ?? ""}`} aria-describedby={error ? errorId : undefined} aria-invalid={error ? true : undefined}>
      <legend>{legend}</legend>
      {children}
      {error ? (
        <span className="field-error" id={errorId} data-testid={name ? `error-${name}` : undefined}>
          {error}
        </span>
      ) : null}
    </fieldset>
  );
};

/** The messages that belong to no field, above the form. */
export const FormAlert = ({ messages }: { messages: string[] }) =>
  messages.length ? (
    <div className="alert alert-error" role="alert" data-testid="form-error">
      <p>{messages.join(" ")}</p>
    </div>
  ) : null;

export const Spinner = () => <span className="spinner" aria-hidden="true" />;

export type Option = { value: string; label: string };

/** `values` as options, each labelled by `label`. */
export const toOptions = <T extends string>(values: readonly T[], label: (v: T) => string = (v) => v): Option[] => values.map((value) => ({ value, label: label(value) }));

/** A select over `options`; `onValue` gets the chosen value. */
export const Select = ({ options, onValue, ...props }: Omit<SelectHTMLAttributes<HTMLSelectElement>, "onChange" | "className"> & { options: Option[]; onValue: (value: string) => void }) => (
  <select {...props} className="select" onChange={(e) => onValue(e.target.value)}>
    {options.map((o) => (
      <option key={o.value} value={o.value}>
        {o.label}
      </option>
    ))}
  </select>
);
