"use client";

const SHOWN = 5;

/**
 * What is selected, always in view while anything is: how many, the first few by name, how
 * many of them the current filters hide, and a way to clear the selection.
 */
export const SelectionBar = ({
  ids,
  hidden = 0,
  noun,
  onClear,
  testId = "selection-bar",
}: {
  /** Every selected id, in a stable order. */
  ids: readonly string[];
  /** How many of them the current filters hide. */
  hidden?: number;
  /** Singular and plural: ["station", "stations"]. */
  noun: readonly [string, string];
  onClear: () => void;
  testId?: string;
}) => {
  if (ids.length === 0) return null;
  const first = ids.slice(0, SHOWN);
  return (
    <div className="alert alert-info selection-bar" role="status" aria-live="polite" data-testid={testId} data-count={ids.length}>
      <p style={{ flex: 1 }}>
        <strong data-testid={`${testId}-count`}>
          {ids.length} {ids.length === 1 ? noun[0] : noun[1]} selected
        </strong>
        {": "}
        <span className="mono">{first.join(", ")}</span>
        {ids.length > SHOWN ? ` and ${ids.length - SHOWN} more` : ""}
        {hidden ? ` (${hidden} hidden by the filters)` : ""}
      </p>
      <button type="button" className="btn btn-sm" onClick={onClear} data-testid={`${testId}-clear`}>
        Clear selection
      </button>
    </div>
  );
};
