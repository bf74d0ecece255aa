"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { stationIdPattern } from "@/contracts/csms/mqtt";
import { errorMessage } from "../../_components/errors";
import { formatAge, formatDateTime } from "../../_components/format";
import { useNow } from "../../_components/use-now";
import { ChargingNav } from "../_components/charging-nav";
import { formatKwh } from "../_components/station-badges";

/** Charging sessions, newest first, filterable by station and by active/finished. */
export const TransactionsView = () => {
  const trpc = useTRPC();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const stationId = params.get("stationId") || undefined;
  const activeParam = params.get("active");
  const active = activeParam === "true" ? true : activeParam === "false" ? false : undefined;
  const now = useNow(10_000);
  const [stationText, setStationText] = useState(stationId ?? "");
  const validStation = !stationId || stationIdPattern.test(stationId);

  const setFilter = (key: "stationId" | "active", value: string) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(key, value);
    else next.delete(key);
    const query = next.toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  };
  useEffect(() => {
    const timer = setTimeout(() => {
      if ((stationText.trim() || undefined) !== stationId) setFilter("stationId", stationText.trim());
    }, 400);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- debounce on the text only
  }, [stationText]);

  const list = useInfiniteQuery(
    trpc.charging.transactions.list.infiniteQueryOptions(
      { stationId: validStation ? stationId : undefined, active, limit: 50 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, refetchInterval: 15_000, enabled: validStation },
    ),
  );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  const total = list.data?.pages[0]?.total;
  const filtered = Boolean(stationId || active !== undefined);

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Transactions</h1>
          <p>Charging sessions across the fleet, newest first.</p>
        </div>
      </div>
      <ChargingNav />

      <form className="filters" role="search" aria-label="Filter transactions" onSubmit={(e) => e.preventDefault()}>
        <div className="field wide">
          <label htmlFor="tx-station">Station id</label>
          <input id="tx-station" className="input" value={stationText} onChange={(e) => setStationText(e.target.value)} aria-invalid={!validStation || undefined} data-testid="filter-station" />
          {!validStation ? <span className="field-error">Not a valid station id.</span> : null}
        </div>
        <div className="field">
          <label htmlFor="tx-active">State</label>
          <select id="tx-active" className="select" value={activeParam ?? ""} onChange={(e) => setFilter("active", e.target.value)} data-testid="filter-active">
            <option value="">Active and finished</option>
            <option value="true">Active</option>
            <option value="false">Finished</option>
          </select>
        </div>
        {filtered ? (
          <div className="actions">
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setStationText("");
                router.replace(pathname, { scroll: false });
              }}
            >
              Clear filters
            </button>
          </div>
        ) : null}
      </form>

      {list.isError ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load transactions: {errorMessage(list.error)}</p>
        </div>
      ) : null}

      <div className="table-wrap">
        {list.isPending && validStation ? (
          <div className="empty">Loading transactions…</div>
        ) : rows.length === 0 ? (
          <div className="empty" data-testid="transactions-empty">
            <strong>{filtered ? "No transaction matches these filters" : "No transactions yet"}</strong>
          </div>
        ) : (
          <table className="data" data-testid="transactions-table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Station</th>
                <th scope="col">Connector</th>
                <th scope="col">Id tag</th>
                <th scope="col">State</th>
                <th scope="col">Duration</th>
                <th scope="col">Energy</th>
                <th scope="col">Stop reason</th>
                <th scope="col">Transaction</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-testid={`transaction-row-${t.id}`} data-active={t.active}>
                  <td className="nowrap num">{formatDateTime(t.startedAt)}</td>
                  <td className="mono">
                    <Link href={`/charging/${encodeURIComponent(t.stationId)}`}>{t.stationId}</Link>
                  </td>
                  <td>
                    {t.evseId ?? "—"} / {t.connectorId ?? "—"}
                  </td>
                  <td className="mono">{t.idTag ?? "—"}</td>
                  <td>{t.active ? <span className="badge badge-info">Charging</span> : <span className="badge">Finished</span>}</td>
                  <td className="num">{formatAge((t.stoppedAt ? new Date(t.stoppedAt).getTime() : now) - new Date(t.startedAt).getTime())}</td>
                  <td className="num">{formatKwh(t.energyWh)}</td>
                  <td>{t.stopReason ?? "—"}</td>
                  <td className="trace">{t.id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="table-foot">
        <span>
          {rows.length}
          {total !== undefined ? ` of ${total}` : ""} transactions shown
        </span>
        {list.hasNextPage ? (
          <button type="button" className="btn" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage} data-testid="load-more">
            {list.isFetchingNextPage ? <span className="spinner" aria-hidden="true" /> : null}
            Load more
          </button>
        ) : null}
      </div>
    </>
  );
};
