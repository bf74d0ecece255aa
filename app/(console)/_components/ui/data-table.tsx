"use client";

import { flexRender, getCoreRowModel, getSortedRowModel, useReactTable, type ColumnDef, type RowData, type SortingState, type Updater } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, type KeyboardEvent, type MouseEvent, type ReactNode } from "react";
import { Spinner } from "./field";
import { errorMessage } from "./messages";
import { useUrlState } from "./url-state";

declare module "@tanstack/react-table" {
  // Module augmentation is the one place an interface is required.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData extends RowData, TValue> {
    /** Class of the column's cells (e.g. "num", "mono", "nowrap"). */
    className?: string;
    /** A header read out but not shown (an actions column). */
    srOnly?: boolean;
  }
}

// Columns hold cells of every type; `any` is react-table's own choice for a column list.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Columns<T> = ColumnDef<T, any>[];

export type TableStatus = { loading: boolean; error?: unknown; retry?: () => void };

export type Paging =
  | { kind: "more"; hasMore: boolean; loading: boolean; onMore: () => void }
  | { kind: "pages"; label: string; prev?: PageLink; next?: PageLink };
type PageLink = { label: string; onClick: () => void; testId?: string };

export type Selection = {
  selected: ReadonlySet<string>;
  onChange: (next: ReadonlySet<string>) => void;
  /** At most this many rows can be selected. */
  max?: number;
  /** The row's name in "Select <name>". */
  name: (id: string) => string;
};

type DataTableProps<T> = {
  /** The table's accessible name ("Stations"). */
  label: string;
  columns: Columns<T>;
  rows: readonly T[];
  rowId: (row: T) => string;
  status: TableStatus;
  /** What the rows are, for the loading and error sentences: "users" → "Loading users…", "Could not load users". */
  noun: string;
  empty: { title: string; hint?: string };
  /** Where a row leads: the row becomes focusable and Enter or a click opens it. */
  rowHref?: (row: T) => string;
  /** data-* attributes and a class for a row. */
  rowAttrs?: (row: T) => Record<string, string | number | boolean | undefined>;
  /** The search param that keeps the sort ("sort"); `false`: the table does not sort. */
  sortParam?: string | false;
  /** Fixed-height rows, virtualized once there are more than VIRTUAL_AFTER of them. */
  virtual?: { rowHeight: number };
  /**
   * The rows are a window of a list held elsewhere (the server's): `rows` start at row
   * `offset` of `total`, the scrollbar spans all `total`, rows not loaded yet show as
   * "Loading…", and `onRange` hears which rows are on screen (first, last) so the caller
   * can fetch them. Sorting is then the caller's too: the headers still set the sort param.
   */
  windowed?: { total: number; offset: number; onRange: (first: number, last: number) => void };
  selection?: Selection;
  /** Left of the footer: counts and notes. */
  foot?: ReactNode;
  paging?: Paging;
  /** Inside a card: no frame of its own. */
  bare?: boolean;
  /** One line per row, cells centred (live tables, logs); virtual tables always are. */
  dense?: boolean;
  /** Scrolls inside this height (px), header kept in view. */
  maxHeight?: number;
  testId?: string;
  emptyTestId?: string;
};

const VIRTUAL_AFTER = 100;

const parseSort = (value: string): SortingState => (value ? [{ id: value.replace(/^-/, ""), desc: value.startsWith("-") }] : []);
const formatSort = (sorting: SortingState) => (sorting[0] ? `${sorting[0].desc ? "-" : ""}${sorting[0].id}` : null);

const ARIA_SORT = { asc: "ascending", desc: "descending" } as const;

/** Whether a click landed on something that does its own thing (a link, a checkbox, a button). */
const onControl = (event: MouseEvent | KeyboardEvent) => (event.target as HTMLElement).closest("a,button,input,select,textarea,summary,label") !== null;

const Footer = ({ foot, paging }: { foot?: ReactNode; paging?: Paging }) => {
  if (!foot && !paging) return null;
  return (
    <nav className="table-foot" aria-label={paging?.kind === "pages" ? paging.label : undefined}>
      <span>{foot}</span>
      {paging?.kind === "more" && paging.hasMore ? (
        <button type="button" className="btn" onClick={paging.onMore} disabled={paging.loading} data-testid="load-more">
          {paging.loading ? <Spinner /> : null}
          Load more
        </button>
      ) : null}
      {paging?.kind === "pages" ? (
        <span className="actions">
          {[paging.prev, paging.next].filter(Boolean).map((link) => (
            <button key={link!.label} type="button" className="btn" onClick={link!.onClick} data-testid={link!.testId}>
              {link!.label}
            </button>
          ))}
        </span>
      ) : null}
    </nav>
  );
};

/** Loading, failed or empty: a plain sentence where the rows would be, with a retry after a failure. */
const Placeholder = ({ status, noun, empty, testId }: { status: TableStatus; noun: string; empty: DataTableProps<unknown>["empty"]; testId?: string }) => {
  if (status.error)
    return (
      <div className="empty" role="alert" data-testid="table-error">
        <strong>Could not load {noun}</strong>
        <p>{errorMessage(status.error)}</p>
        {status.retry ? (
          <button type="button" className="btn" onClick={status.retry} style={{ marginTop: 10 }}>
            Try again
          </button>
        ) : null}
      </div>
    );
  if (status.loading)
    return (
      <div className="empty" role="status">
        <Spinner /> Loading {noun}…
      </div>
    );
  return (
    <div className="empty" data-testid={testId}>
      <strong>{empty.title}</strong>
      {empty.hint}
    </div>
  );
};

/**
 * The console's table: sortable columns with the sort kept in the URL, long lists
 * virtualized (or windowed over a list the server holds), loading / failed / empty states
 * in words, "Load more" or page links, rows that lead somewhere reachable by keyboard, and
 * optional row selection.
 */
export const DataTable = <T,>({
  label,
  columns,
  rows,
  rowId,
  status,
  noun,
  empty,
  rowHref,
  rowAttrs,
  sortParam = "sort",
  virtual,
  windowed,
  selection,
  foot,
  paging,
  bare = false,
  dense = false,
  maxHeight,
  testId,
  emptyTestId,
}: DataTableProps<T>) => {
  const router = useRouter();
  const url = useUrlState([sortParam || "sort"]);
  const sorting = useMemo(() => (sortParam ? parseSort(url.values[sortParam]) : []), [sortParam, url.values]);
  const onSortingChange = (updater: Updater<SortingState>) => {
    if (!sortParam) return;
    const next = typeof updater === "function" ? updater(sorting) : updater;
    url.set({ [sortParam]: formatSort(next) });
  };

  const data = useMemo(() => [...rows], [rows]);
  // eslint-disable-next-line react-hooks/incompatible-library -- react-table returns fresh functions by design
  const table = useReactTable({
    data,
    columns,
    getRowId: rowId,
    state: { sorting },
    onSortingChange,
    enableSorting: Boolean(sortParam),
    enableMultiSort: false,
    manualSorting: Boolean(windowed),
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const tableRows = table.getRowModel().rows;

  const scrollRef = useRef<HTMLDivElement>(null);
  const count = windowed ? windowed.total : tableRows.length;
  const offset = windowed?.offset ?? 0;
  const virtualOn = Boolean(virtual) && count > VIRTUAL_AFTER;
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => virtual?.rowHeight ?? 37,
    overscan: 12,
    enabled: virtualOn,
  });
  const onScreen = virtualOn ? virtualizer.getVirtualItems() : null;
  // A windowed list's row i is rows[i - offset]; one not loaded yet is a placeholder.
  const shown = onScreen ? onScreen.map((item) => ({ row: tableRows[item.index - offset], index: item.index })) : tableRows.map((row, index) => ({ row, index: index + offset }));
  const paddingTop = onScreen?.[0]?.start ?? 0;
  const paddingBottom = onScreen?.length ? virtualizer.getTotalSize() - onScreen[onScreen.length - 1]!.end : 0;
  const span = columns.length + (selection ? 1 : 0);
  const first = shown[0]?.index ?? 0;
  const last = shown.at(-1)?.index ?? -1;
  const onRange = windowed?.onRange;
  useEffect(() => {
    onRange?.(first, last);
  }, [onRange, first, last]);

  const selectable = selection ? tableRows.slice(0, selection.max ?? tableRows.length).map((r) => r.id) : [];
  const allSelected = selection !== undefined && selectable.length > 0 && selectable.every((id) => selection.selected.has(id));
  const toggle = (id: string, on: boolean) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (on) next.add(id);
    else next.delete(id);
    selection.onChange(next);
  };

  const open = (row: T) => rowHref && router.push(rowHref(row));
  const showRows = count > 0;
  const wrapClass = `table-wrap${virtualOn ? " vscroll" : ""}${bare ? " bare" : ""}`;

  return (
    <>
      {showRows && status.error ? (
        <div className="alert alert-error" role="alert">
          <p style={{ flex: 1 }}>
            Could not load {noun}: {errorMessage(status.error)}
          </p>
          {status.retry ? (
            <button type="button" className="btn btn-sm" onClick={status.retry}>
              Try again
            </button>
          ) : null}
        </div>
      ) : null}
      <div className={wrapClass} ref={scrollRef} style={maxHeight ? { maxHeight, overflow: "auto" } : undefined} data-testid={testId ? `${testId}-scroll` : undefined}>
        {!showRows ? (
          <Placeholder status={status} noun={noun} empty={empty} testId={emptyTestId} />
        ) : (
          <table className={virtual || dense ? "data dense" : "data"} aria-label={label} data-testid={testId} aria-rowcount={virtualOn ? count + 1 : undefined}>
            <thead>
              {table.getHeaderGroups().map((group) => (
                <tr key={group.id} aria-rowindex={virtualOn ? 1 : undefined}>
                  {selection ? (
                    <th scope="col" style={{ width: 32 }}>
                      <input
                        type="checkbox"
                        aria-label={
                          selection.max && tableRows.length > selection.max
                            ? `Select the first ${selection.max} shown`
                            : count > tableRows.length
                              ? `Select the ${tableRows.length} rows loaded of ${count}`
                              : "Select every row shown"
                        }
                        checked={allSelected}
                        onChange={(e) => selection.onChange(e.target.checked ? new Set(selectable) : new Set())}
                        data-testid="select-all"
                      />
                    </th>
                  ) : null}
                  {group.headers.map((header) => {
                    const column = header.column;
                    const sorted = column.getIsSorted();
                    const title = flexRender(column.columnDef.header, header.getContext());
                    return (
                      <th key={header.id} scope="col" aria-sort={column.getCanSort() ? (sorted ? ARIA_SORT[sorted] : "none") : undefined}>
                        {column.columnDef.meta?.srOnly ? (
                          <span className="sr-only">{title}</span>
                        ) : column.getCanSort() ? (
                          <button type="button" className="sort-button" onClick={column.getToggleSortingHandler()} data-testid={`sort-${column.id}`}>
                            {title}
                            <span className="sort-mark" aria-hidden="true">
                              {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : "↕"}
                            </span>
                          </button>
                        ) : (
                          title
                        )}
                      </th>
                    );
                  })}
                </tr>
              ))}
            </thead>
            <tbody>
              {paddingTop > 0 ? (
                <tr className="spacer-row" aria-hidden="true">
                  <td style={{ height: paddingTop }} colSpan={span} />
                </tr>
              ) : null}
              {shown.map(({ row, index }) => {
                if (!row)
                  return (
                    <tr key={`loading-${index}`} className="row-loading" style={{ height: virtual?.rowHeight }} aria-rowindex={virtualOn ? index + 2 : undefined} aria-busy="true">
                      <td colSpan={span} className="muted">
                        Loading…
                      </td>
                    </tr>
                  );
                const isSelected = selection?.selected.has(row.id) ?? false;
                const attrs = rowAttrs?.(row.original) ?? {};
                return (
                  <tr
                    key={row.id}
                    {...attrs}
                    style={virtualOn ? { height: virtual!.rowHeight } : undefined}
                    aria-rowindex={virtualOn ? index + 2 : undefined}
                    data-selected={selection ? isSelected : undefined}
                    className={[attrs.className, rowHref ? "row-link" : ""].filter(Boolean).join(" ") || undefined}
                    tabIndex={rowHref ? 0 : undefined}
                    onClick={rowHref ? (e) => !onControl(e) && open(row.original) : undefined}
                    onKeyDown={rowHref ? (e) => e.key === "Enter" && e.target === e.currentTarget && open(row.original) : undefined}
                  >
                    {selection ? (
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select ${selection.name(row.id)}`}
                          checked={isSelected}
                          onChange={(e) => toggle(row.id, e.target.checked)}
                          disabled={!isSelected && selection.max !== undefined && selection.selected.size >= selection.max}
                          data-testid={`select-${row.id}`}
                        />
                      </td>
                    ) : null}
                    {row.getVisibleCells().map((cell) => (
                      <td key={cell.id} className={cell.column.columnDef.meta?.className}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    ))}
                  </tr>
                );
              })}
              {paddingBottom > 0 ? (
                <tr className="spacer-row" aria-hidden="true">
                  <td style={{ height: paddingBottom }} colSpan={span} />
                </tr>
              ) : null}
            </tbody>
          </table>
        )}
      </div>
      <Footer foot={showRows ? foot : undefined} paging={paging} />
    </>
  );
};
