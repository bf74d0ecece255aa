"use client";

import { useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

export type UrlPatch<K extends string> = Partial<Record<K, string | null | undefined>>;

/**
 * A page's view state (filters, sort, cursor) kept in the URL's search params, so a link or
 * a reload shows the same view. Writes go through the History API, which Next.js folds into
 * its router: `useSearchParams` follows, and no server round trip happens per keystroke.
 * Empty values are dropped from the URL.
 */
export const useUrlState = <K extends string>(keys: readonly K[]) => {
  const params = useSearchParams();
  const query = params.toString();
  const values = useMemo(() => {
    const current = new URLSearchParams(query);
    return Object.fromEntries(keys.map((k) => [k, current.get(k) ?? ""])) as Record<K, string>;
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `keys` is a constant list per page
  }, [query]);

  /** `push` adds a history entry (paging); otherwise the current one is replaced (filters). */
  const set = useCallback((patch: UrlPatch<K>, { push = false }: { push?: boolean } = {}) => {
    // Start from the address bar, not from the last render, so two writes in one tick both land.
    const next = new URLSearchParams(window.location.search);
    for (const [key, value] of Object.entries(patch) as [string, string | null | undefined][]) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const search = next.toString();
    const url = `${window.location.pathname}${search ? `?${search}` : ""}`;
    if (url === `${window.location.pathname}${window.location.search}`) return;
    if (push) window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
  }, []);

  const clear = useCallback(() => set(Object.fromEntries(keys.map((k) => [k, null])) as UrlPatch<K>), [keys, set]);
  const any = keys.some((k) => values[k] !== "");
  return { values, set, clear, any };
};

/** One of `options`, or undefined for anything else a hand-edited URL may hold. */
export const oneOf = <T extends string>(options: readonly T[], value: string): T | undefined => options.find((o) => o === value);

/** "true" / "false" from a URL value, else undefined. */
export const parseBool = (value: string): boolean | undefined => (value === "true" ? true : value === "false" ? false : undefined);
