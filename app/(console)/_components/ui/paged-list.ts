"use client";

import type { InfiniteData, UseInfiniteQueryResult } from "@tanstack/react-query";
import { useMemo } from "react";
import type { Paging, TableStatus } from "./data-table";

type Page<T> = { items: T[]; total?: number; nextCursor?: string | null };

/** The `getNextPageParam` of every keyset-paged list the routers serve. */
export const nextCursor = (last: { nextCursor?: string | null }) => last.nextCursor ?? undefined;

/**
 * A keyset-paged list (an infinite query over `{ items, nextCursor, total? }`) as the data
 * table takes it: every loaded row, the total when the router counts it, the table's status
 * and "Load more" (`<DataTable {...list.table} …/>`).
 */
export const usePagedList = <T>(query: UseInfiniteQueryResult<InfiniteData<Page<T>, unknown>, unknown>) => {
  const { data, isLoading, error, refetch, hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  const rows = useMemo(() => data?.pages.flatMap((p) => p.items) ?? [], [data]);
  const status: TableStatus = { loading: isLoading, error, retry: () => void refetch() };
  const paging: Paging = { kind: "more", hasMore: hasNextPage, loading: isFetchingNextPage, onMore: () => void fetchNextPage() };
  return { rows, total: data?.pages[0]?.total, status, paging, loaded: data !== undefined, table: { rows, status, paging } };
};

/** "12 of 40 users shown", or "12 users shown" when the total is unknown. */
export const countText = (shown: number, total: number | undefined, one: string, many: string) =>
  `${shown.toLocaleString()}${total !== undefined ? ` of ${total.toLocaleString()}` : ""} ${(total ?? shown) === 1 ? one : many} shown`;
