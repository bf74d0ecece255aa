"use client";

import { TRPCClientError } from "@trpc/client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { LiveMessage } from "@/server/live/stream";

/**
 * The client half of a live feed (server/live/stream.ts): a snapshot replaces everything,
 * then changes upsert or remove entities by key. `keyOf` must be stable.
 */
export const useLiveMap = <T>(keyOf: (item: T) => string) => {
  const [items, setItems] = useState<ReadonlyMap<string, T>>(() => new Map());
  const [received, setReceived] = useState(false);
  const apply = useCallback(
    (message: LiveMessage<T>) => {
      setReceived(true);
      setItems((prev) => {
        if (message.kind === "snapshot") return new Map(message.items.map((item) => [keyOf(item), item]));
        const next = new Map(prev);
        for (const item of message.upserts) next.set(keyOf(item), item);
        for (const key of message.removed) next.delete(key);
        return next;
      });
    },
    [keyOf],
  );
  return { items, received, apply };
};

export type LiveState = "off" | "connecting" | "live" | "reconnecting";

type SubscriptionLike = { status: "idle" | "connecting" | "pending" | "error"; error: unknown; reset: () => void };

const isUnauthorized = (error: unknown) => error instanceof TRPCClientError && error.data?.code === "UNAUTHORIZED";

/**
 * Keeps a subscription alive and says how it is doing. tRPC's SSE link reconnects by itself
 * after network errors (resuming from the last event id); an error the server sends ends the
 * subscription, so this restarts it after a pause, and an expired session goes to sign-in.
 */
export const useLiveState = (subscription: SubscriptionLike, received: boolean): LiveState => {
  const { status, error, reset } = subscription;
  const resetRef = useRef(reset);
  useEffect(() => {
    resetRef.current = reset;
  });
  useEffect(() => {
    if (status !== "error") return;
    if (isUnauthorized(error)) {
      const next = window.location.pathname + window.location.search;
      // A full load, so nothing cached for the expired session survives into the next one.
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination
      window.location.assign(`/login?next=${encodeURIComponent(next)}&expired=1`);
      return;
    }
    const timer = setTimeout(() => resetRef.current(), 5000);
    return () => clearTimeout(timer);
  }, [status, error]);

  if (status === "idle") return "off";
  if (status === "pending") return "live";
  if (status === "error" || received || error) return "reconnecting";
  return "connecting";
};
