"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";
import { Field, Select, toOptions, type Option } from "./field";

/** The filter strip above a table: a search landmark, and "Clear filters" once any is set. */
export const FilterBar = ({ label, onClear, canClear, children }: { label: string; onClear: () => void; canClear: boolean; children: ReactNode }) => (
  <form className="filters" role="search" aria-label={label} onSubmit={(e) => e.preventDefault()} noValidate>
    {children}
    {canClear ? (
      <div className="actions">
        <button type="button" className="btn btn-ghost" onClick={onClear} data-testid="clear-filters">
          Clear filters
        </button>
      </div>
    ) : null}
  </form>
);

type TextFilterProps = {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  type?: "search" | "text" | "datetime-local";
  size?: "wide" | "date";
  error?: string;
  testId?: string;
  /** How long typing must pause before the filter applies. */
  delayMs?: number;
};

/**
 * A text filter that applies once typing pauses. It keeps its own draft and follows the
 * outside value when that changes for another reason (Clear, the back button), but not
 * when it is merely catching up with what this field itself sent.
 */
export const TextFilter = ({ label, value, onChange, placeholder, type = "search", size, error, testId, delayMs = 250 }: TextFilterProps) => {
  const [draft, setDraft] = useState(value);
  const [seen, setSeen] = useState(value);
  const [sent, setSent] = useState(value);
  if (value !== seen) {
    setSeen(value);
    if (value !== sent) setDraft(value);
  }
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  });
  useEffect(() => {
    if (draft.trim() === value) return;
    const timer = setTimeout(() => {
      setSent(draft.trim());
      onChangeRef.current(draft.trim());
    }, delayMs);
    return () => clearTimeout(timer);
  }, [draft, value, delayMs]);

  return (
    <Field label={label} error={error} className={size}>
      {(control) => <input {...control} className="input" type={type} value={draft} placeholder={placeholder} onChange={(e) => setDraft(e.target.value)} data-testid={testId} />}
    </Field>
  );
};

/** A select filter; applies at once. The first option should be the "any" choice (value ""). */
export const SelectFilter = ({ label, value, onChange, options, testId }: { label: string; value: string; onChange: (value: string) => void; options: Option[]; testId?: string }) => (
  <Field label={label}>
    {(control) => <Select {...control} value={value} onValue={onChange} options={options} data-testid={testId} />}
  </Field>
);

/** `["a", "b"]` as options, after an "any" choice. */
export const optionsOf = <T extends string>(any: string, values: readonly T[], label?: (v: T) => string): Option[] => [{ value: "", label: any }, ...toOptions(values, label)];

/** Both, yes or no, as "" / "true" / "false" (see parseBool). */
export const boolOptions = (both: string, yes: string, no: string): Option[] => [
  { value: "", label: both },
  { value: "true", label: yes },
  { value: "false", label: no },
];
