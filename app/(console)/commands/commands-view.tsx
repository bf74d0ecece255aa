"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandStatus, CommandView } from "@/server/commands/command-feed";
import { COMMAND_STATUS_LIST, CommandStatusBadge, commandStatusLabel, LiveIndicator } from "../_components/badges";
import { errorMessage } from "../_components/errors";
import { describeError, formatDateTime, formatDuration, formatTimeShort, summarize } from "../_components/format";
import { useCommandFeed } from "../_components/use-command-feed";

const DOMAINS = ["system", "charging", "robots", "flex", "monitoring"] as const;

const parseStatus = (value: string | null): CommandStatus | undefined =>
  COMMAND_STATUS_LIST.find((s) => s === value);

const newestFirst = (a: CommandView, b: CommandView) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);

const duration = (c: CommandView) => (c.completedAt ? c.completedAt.getTime() - c.createdAt.getTime() : null);

const Detail = ({ command }: { command: CommandView }) => {
  if (command.error)
    return (
      <span className="clip" style={{ color: "var(--danger)" }} title={command.error}>
        {describeError(command.error)}
      </span>
    );
  if (command.result === null || command.result === undefined) return <span className="muted">—</span>;
  return (
    <span className="truncate mono" title={JSON.stringify(command.result)}>
      {summarize(command.result, 60)}
    </span>
  );
};

export const CommandsView = () => {
  const trpc = useTRPC();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const domain = params.get("domain") || undefined;
  const status = parseStatus(params.get("status"));
  const [mountedAt] = useState(() => Date.now());

  const setFilter = (key: "domain" | "status", value: string) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(key, value);
    else next.delete(key);
    const query = next.toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  };

  const list = useInfiniteQuery(
    trpc.commands.list.infiniteQueryOptions({ domain, status, limit: 50 }, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const feed = useCommandFeed(true);

  const { rows, loadedIds } = useMemo(() => {
    const loaded = list.data?.pages.flatMap((p) => p.items) ?? [];
    const loadedIds = new Set(loaded.map((c) => c.id));
    const oldest = loaded.at(-1)?.createdAt.getTime();
    const matches = (c: CommandView) => (!domain || c.domain === domain) && (!status || c.status === status);
    const byId = new Map<string, CommandView>();
    for (const c of loaded) byId.set(c.id, feed.commands.get(c.id) ?? c);
    if (list.data) {
      // Live commands join the list only where it is complete: newer than the oldest loaded
      // row, or anywhere once every page is loaded. Older ones arrive with "Load more".
      for (const c of feed.commands.values()) {
        if (byId.has(c.id)) continue;
        if (list.hasNextPage && oldest !== undefined && c.createdAt.getTime() < oldest) continue;
        byId.set(c.id, c);
      }
    }
    return { rows: [...byId.values()].filter(matches).sort(newestFirst), loadedIds };
  }, [list.data, list.hasNextPage, feed.commands, domain, status]);

  const filtered = Boolean(domain || status);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Commands</h1>
          <p>Every control action, from request to outcome. Statuses update live.</p>
        </div>
        <LiveIndicator state={feed.state} />
      </div>

      <form className="filters" role="search" aria-label="Filter commands" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="cmd-domain">Domain</label>
          <select id="cmd-domain" className="select" value={domain ?? ""} onChange={(e) => setFilter("domain", e.target.value)} data-testid="filter-domain">
            <option value="">All domains</option>
            {DOMAINS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="cmd-status">Status</label>
          <select id="cmd-status" className="select" value={status ?? ""} onChange={(e) => setFilter("status", e.target.value)} data-testid="filter-status">
            <option value="">All statuses</option>
            {COMMAND_STATUS_LIST.map((s) => (
              <option key={s} value={s}>
                {commandStatusLabel(s)}
              </option>
            ))}
          </select>
        </div>
        {filtered ? (
          <button type="button" className="btn btn-ghost" onClick={() => router.replace(pathname, { scroll: false })}>
            Clear filters
          </button>
        ) : null}
      </form>

      {list.isError ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load commands: {errorMessage(list.error)}</p>
        </div>
      ) : null}

      <div className="table-wrap">
        {list.isPending ? (
          <div className="empty">Loading commands…</div>
        ) : rows.length === 0 ? (
          <div className="empty" data-testid="commands-empty">
            <strong>{filtered ? "No commands match these filters" : "No commands yet"}</strong>
            {filtered ? "Try another domain or status." : "Commands appear here as soon as someone sends one."}
          </div>
        ) : (
          <table className="data" data-testid="commands-table">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Domain</th>
                <th scope="col">Target</th>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col">Actor</th>
                <th scope="col">Took</th>
                <th scope="col">Detail</th>
                <th scope="col">Trace id</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr
                  key={c.id}
                  data-testid={`command-row-${c.id}`}
                  data-status={c.status}
                  className={!loadedIds.has(c.id) && c.createdAt.getTime() > mountedAt ? "row-new" : undefined}
                >
                  <td className="nowrap num" title={formatDateTime(c.createdAt)}>
                    {formatTimeShort(c.createdAt)}
                  </td>
                  <td>{c.domain}</td>
                  <td className="mono">{c.target}</td>
                  <td>{c.action}</td>
                  <td>
                    <CommandStatusBadge status={c.status} />
                  </td>
                  <td>{c.actorEmail}</td>
                  <td className="nowrap num" title={c.completedAt ? `Completed ${formatDateTime(c.completedAt)}` : undefined}>
                    {formatDuration(duration(c))}
                  </td>
                  <td>
                    <Detail command={c} />
                  </td>
                  <td className="trace" title={c.traceId}>
                    {c.traceId.slice(0, 12)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div className="table-foot">
        <span>
          {rows.length} {rows.length === 1 ? "command" : "commands"} shown
        </span>
        {list.hasNextPage ? (
          <button type="button" className="btn" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage} data-testid="load-more">
            {list.isFetchingNextPage ? <span className="spinner" aria-hidden="true" /> : null}
            Load more
          </button>
        ) : list.data && rows.length > 0 ? (
          <span>That is everything.</span>
        ) : null}
      </div>
    </>
  );
};
