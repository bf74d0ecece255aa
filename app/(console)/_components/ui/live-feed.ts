"use client";

import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { goToSignIn, isUnauthorized } from "@/app/_trpc/client";

/** What every live subscription yields (server/live/stream.ts): a snapshot, then changes. */
export type LiveMessage<T> = { kind: "snapshot"; items: T[] } | { kind: "changes"; upserts: T[]; removed: string[] };

export type LiveState = "off" | "connecting" | "live" | "reconnecting";

type OnData<T> = (event: { data: LiveMessage<T> }) => void;

/** The part of a tRPC `subscriptionOptions(…)` result this hook relies on. */
type SubscriptionOptions = { enabled: boolean; queryKey: unknown };

type SubscriptionLike = { status: "idle" | "connecting" | "pending" | "error"; error: unknown; reset: () => void };

const RESTART_AFTER_MS = 5000;
/** A tab hidden this long gives its streams back (see usePageVisible). */
const RELEASE_HIDDEN_AFTER_MS = 10_000;

/**
 * Whether this tab is in view, going false only after it has been hidden for a while.
 * Every live feed is one SSE request, and a browser opens at most six HTTP/1.1 connections
 * per host across all its tabs: a background tab that kept its streams would leave the tab
 * in front with none for its own queries (pages stuck on "Loading…"). So hidden tabs close
 * their streams, keep what they last showed, and resubscribe (a fresh snapshot) when they
 * come back into view.
 */
const usePageVisible = () => {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      clearTimeout(timer);
      if (document.visibilityState === "visible") setVisible(true);
      else timer = setTimeout(() => setVisible(false), RELEASE_HIDDEN_AFTER_MS);
    };
    update();
    document.addEventListener("visibilitychange", update);
    return () => {
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", update);
    };
  }, []);
  return visible;
};

/** The subscription's options, switched off while the tab is out of view. */
const useVisibleSubscription = (options: SubscriptionOptions) => {
  const visible = usePageVisible();
  const gated = { ...options, enabled: options.enabled && visible };
  // The options carry tRPC's own types for this procedure; the hook only needs its status.
  return useSubscription(gated as unknown as Parameters<typeof useSubscription>[0]) as SubscriptionLike;
};

/**
 * Keeps a subscription alive and says how it is doing. tRPC's SSE link reconnects by itself
 * after network errors (resuming from the last event id); an error the server sends ends the
 * subscription, so this restarts it after a pause, and an ended session goes to sign-in.
 */
const useLiveState = ({ status, error, reset }: SubscriptionLike, received: boolean): LiveState => {
  const resetRef = useRef(reset);
  useEffect(() => {
    resetRef.current = reset;
  });
  useEffect(() => {
    if (status !== "error") return;
    if (isUnauthorized(error)) {
      goToSignIn();
      return;
    }
    const timer = setTimeout(() => resetRef.current(), RESTART_AFTER_MS);
    return () => clearTimeout(timer);
  }, [status, error]);

  if (status === "idle") return "off";
  if (status === "pending") return "live";
  if (status === "error" || received || error) return "reconnecting";
  return "connecting";
};

/**
 * The browser half of a live feed: a snapshot replaces everything, then changes upsert or
 * remove entities by key. `keyOf` must be stable (define it at module level). `subscribe`
 * builds the tRPC subscription with the handler it is given, e.g.
 * `(onData) => trpc.charging.stations.onChange.subscriptionOptions(input, { onData })`;
 * pass `skipToken` as the input to switch the feed off.
 */
export const useLiveFeed = <T>({ keyOf, subscribe }: { keyOf: (item: T) => string; subscribe: (onData: OnData<T>) => SubscriptionOptions }) => {
  const [items, setItems] = useState<ReadonlyMap<string, T>>(() => new Map());
  const [received, setReceived] = useState(false);
  const onData = useCallback<OnData<T>>(
    ({ data: message }) => {
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
  const subscription = useVisibleSubscription(subscribe(onData));
  const state = useLiveState(subscription, received);
  return { items, received, state };
};

/**
 * The same live subscription for data too fast for React state (robots on a map at 10 Hz):
 * every message goes to `onMessage` as it arrives and nothing re-renders; keep the items in a
 * ref and draw them yourself (requestAnimationFrame). `onMessage` must be stable (useCallback).
 * `state` is as useLiveFeed's.
 */
export const useLiveStream = <T>({ subscribe, onMessage }: { subscribe: (onData: OnData<T>) => SubscriptionOptions; onMessage: (message: LiveMessage<T>) => void }) => {
  const [received, setReceived] = useState(false);
  const onData = useCallback<OnData<T>>(
    ({ data }) => {
      setReceived(true);
      onMessage(data);
    },
    [onMessage],
  );
  const subscription = useVisibleSubscription(subscribe(onData));
  return { received, state: useLiveState(subscription, received) };
};
