import { RPCClient } from "ocpp-rpc";
import type { Core } from "./core";
import { createTxQueue } from "./tx-queue";
import type { Json, Params } from "./types";

/**
 * The station's websocket (ocpp-rpc, strict mode, so every message it sends or accepts is
 * schema-checked) and the ways to send on it: plain CALLs that never throw, transaction
 * messages that wait offline (tx-queue.ts), and side effects deferred past the current
 * CALLRESULT. Connecting and booting are boot.ts.
 */

/** ws://host:port → ws://host:port/ws (ocpp-rpc appends /<identity>). */
export const stationEndpoint = (url: string) => {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/ws") ? base : `${base}/ws`;
};

export const createWire = ({ opts, id, protocol, link, stats, log }: Core) => {
  const client = new RPCClient({
    endpoint: stationEndpoint(opts.url),
    identity: id,
    password: opts.password ?? null,
    protocols: [protocol],
    strictMode: true,
    callConcurrency: 1,
    callTimeoutMs: opts.callTimeoutMs ?? 30_000,
    reconnect: true,
    maxReconnects: Infinity,
    pingIntervalMs: 30_000,
    backoff: { initialDelay: 1000, maxDelay: 30_000, factor: 2, randomisationFactor: 0.5 },
  } as unknown as ConstructorParameters<typeof RPCClient>[0]);

  const sleepers = new Set<() => void>();
  /** A sleep that ends early when the station is closed. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const canSend = () => link.connected && link.bootStatus === "Accepted";
  /** Sends a CALL; resolves undefined instead of throwing, because a station carries on regardless. */
  const call = async <T = Json>(action: string, params: Params, { force = false } = {}): Promise<T | undefined> => {
    if (link.closed || !link.connected || (!force && link.bootStatus !== "Accepted")) return undefined;
    stats.calls += 1;
    try {
      return (await client.call(action, params)) as T;
    } catch (error) {
      stats.callErrors += 1;
      log.debug({ action, err: (error as Error).message, code: (error as { rpcErrorCode?: string }).rpcErrorCode }, "call failed");
      return undefined;
    }
  };
  /** Transaction messages wait here while they cannot be delivered (tx-queue.ts). */
  const txQueue = createTxQueue({
    canSend: () => !link.closed && canSend(),
    send: async (action, params) => {
      stats.calls += 1;
      try {
        return await client.call(action, params);
      } catch (error) {
        stats.callErrors += 1;
        log.debug({ action, err: (error as Error).message, code: (error as { rpcErrorCode?: string }).rpcErrorCode }, "transaction message failed");
        throw error;
      }
    },
    onDrop: (m) => log.warn({ action: m.action }, "transaction message queue full; oldest dropped"),
  });
  const txCall = <T = Json>(action: string, params: Params) => (link.closed ? Promise.resolve(undefined) : txQueue.call<T>(action, params));
  /** Runs a side effect after the current CALLRESULT has gone out. */
  const later = (fn: () => Promise<unknown> | void) =>
    setImmediate(() => {
      if (link.closed) return;
      Promise.resolve()
        .then(fn)
        .catch((error: unknown) => log.warn({ err: (error as Error).message }, "station flow failed"));
    });

  client.on("strictValidationFailure", ({ method, outbound, isCall, error }: { method: string; outbound: boolean; isCall: boolean; error: Error }) => {
    stats.validationFailures += 1;
    log.warn({ action: method, outbound, isCall, err: error.message }, "schema violation");
  });
  client.on("socketError", (error: Error) => log.debug({ err: error.message }, "socket error"));
  /** Ends every pending sleep at once (on close). */
  const wakeSleepers = () => {
    for (const wake of [...sleepers]) wake();
  };

  return { client, sleep, wakeSleepers, canSend, call, txQueue, txCall, later };
};

export type Wire = ReturnType<typeof createWire>;
