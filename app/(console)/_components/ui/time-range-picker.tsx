"use client";

import { useState, type FormEvent } from "react";
import { formatDateTime, toDateTimeLocal } from "../format";
import { Field } from "./field";
import { describeTimeRange, MIN_RANGE_MS, RELATIVE_RANGES, type TimeRange } from "./time-range";

type TimeRangePickerProps = {
  value: TimeRange;
  onChange: (next: TimeRange) => void;
  /** Auto-refresh: shown as a checkbox when given (relative ranges follow the clock). */
  autoRefresh?: { on: boolean; onChange: (on: boolean) => void };
  testId?: string;
};

const fromLocal = (s: string) => (s ? new Date(s).getTime() : NaN);

/**
 * The chart's time window: relative ranges (15 min … 30 days) as a row of toggle buttons,
 * "Custom" with two date-time fields, and an auto-refresh switch. Everything is reachable by
 * keyboard; the current window is said in words beside it.
 */
export const TimeRangePicker = ({ value, onChange, autoRefresh, testId = "time-range" }: TimeRangePickerProps) => {
  const [custom, setCustom] = useState<{ from: string; to: string } | null>(null);
  const [error, setError] = useState<string | undefined>();
  const openCustom = () => {
    const now = Date.now();
    const from = value.kind === "custom" ? value.from : now - 3_600_000;
    const to = value.kind === "custom" ? value.to : now;
    setCustom({ from: toDateTimeLocal(new Date(from)), to: toDateTimeLocal(new Date(to)) });
    setError(undefined);
  };
  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (!custom) return;
    const from = fromLocal(custom.from);
    const to = fromLocal(custom.to);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return setError("Enter both the start and the end.");
    if (to - from < MIN_RANGE_MS) return setError("The end must be at least a minute after the start.");
    setCustom(null);
    onChange({ kind: "custom", from, to });
  };

  return (
    <div className="time-range" data-testid={testId}>
      <div className="time-range-row">
        <div role="group" aria-label="Time range" className="segmented">
          {RELATIVE_RANGES.map((r) => {
            const on = value.kind === "relative" && value.id === r.id;
            return (
              <button key={r.id} type="button" className={`btn btn-sm ${on ? "btn-primary" : ""}`} aria-pressed={on} onClick={() => (setCustom(null), onChange({ kind: "relative", id: r.id }))} data-testid={`${testId}-${r.id}`}>
                {r.label}
              </button>
            );
          })}
          <button type="button" className={`btn btn-sm ${value.kind === "custom" ? "btn-primary" : ""}`} aria-pressed={value.kind === "custom"} aria-expanded={custom !== null} onClick={openCustom} data-testid={`${testId}-custom`}>
            Custom…
          </button>
        </div>
        {autoRefresh ? (
          <label className="check">
            <input type="checkbox" checked={autoRefresh.on} onChange={(e) => autoRefresh.onChange(e.target.checked)} data-testid={`${testId}-auto`} />
            Auto-refresh
          </label>
        ) : null}
        <span className="muted" aria-live="polite" data-testid={`${testId}-label`}>
          {describeTimeRange(value, formatDateTime)}
        </span>
      </div>
      {custom ? (
        <form className="time-range-custom" onSubmit={apply} aria-label="Custom time range" noValidate>
          <Field label="From" error={error}>
            {(control) => <input {...control} className="input" type="datetime-local" value={custom.from} onChange={(e) => setCustom({ ...custom, from: e.target.value })} data-testid={`${testId}-from`} />}
          </Field>
          <Field label="To">{(control) => <input {...control} className="input" type="datetime-local" value={custom.to} onChange={(e) => setCustom({ ...custom, to: e.target.value })} data-testid={`${testId}-to`} />}</Field>
          <div className="actions">
            <button type="submit" className="btn btn-primary btn-sm" data-testid={`${testId}-apply`}>
              Apply
            </button>
            <button type="button" className="btn btn-sm" onClick={() => setCustom(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
};
