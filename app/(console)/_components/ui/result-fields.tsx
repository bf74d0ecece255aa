"use client";

import { readableResult } from "./readable-result";

/** A command's result as labelled fields and small tables (ui/readable-result), never raw JSON. */
export const ResultFields = ({ result, testId = "result-fields" }: { result: unknown; testId?: string }) => {
  const { fields, tables } = readableResult(result);
  if (fields.length === 0 && tables.length === 0) return <p className="muted">The answer carried no fields.</p>;
  return (
    <div data-testid={testId}>
      {fields.length ? (
        <dl className="kv">
          {fields.map((f) => (
            <div key={f.label} style={{ display: "contents" }} data-testid={`${testId}-${f.label}`}>
              <dt>{f.label}</dt>
              <dd className="break">{f.value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {tables.map((t) => (
        <div key={t.label} className="table-wrap bare" style={{ marginTop: 10, maxHeight: 280, overflow: "auto" }}>
          <table className="data dense" aria-label={t.label}>
            <caption className="muted" style={{ textAlign: "left", captionSide: "top" }}>
              {t.label}
            </caption>
            <thead>
              <tr>
                {t.columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {t.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((v, j) => (
                    <td key={j} className="break">
                      {v}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {t.more ? <p className="muted">… and {t.more} more</p> : null}
        </div>
      ))}
    </div>
  );
};
