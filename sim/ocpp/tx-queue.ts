/**
 * Transaction messages a station must not lose (OCPP 1.6 §4.7 / 2.0.1 E04): StopTransaction
 * and transaction MeterValues (1.6), TransactionEvent (2.0.1). One that cannot be delivered
 * — the station is offline, the socket closed or nothing answered — waits here and is sent,
 * in order, once the station is back (after its boot, before its status sync). A CALLERROR
 * from the CSMS is an answer: that message is not sent again.
 */
export type TxMessage = { action: string; params: Record<string, unknown> };

export const createTxQueue = ({
  send,
  canSend,
  max = 1000,
  onDrop,
}: {
  /** Sends a CALL; throws what ocpp-rpc throws. */
  send: (action: string, params: Record<string, unknown>) => Promise<unknown>;
  canSend: () => boolean;
  /** Oldest messages are dropped beyond this (a real station's storage is finite too). */
  max?: number;
  onDrop?: (m: TxMessage) => void;
}) => {
  const queue: TxMessage[] = [];
  let flushing: Promise<void> | undefined;
  let sentLater = 0;
  const undelivered = (error: unknown) => typeof (error as { rpcErrorCode?: unknown })?.rpcErrorCode !== "string" || !canSend();
  const enqueue = (m: TxMessage) => {
    queue.push(m);
    while (queue.length > max) onDrop?.(queue.shift()!);
  };

  const drain = async () => {
    while (queue.length && canSend()) {
      try {
        await send(queue[0].action, queue[0].params);
      } catch (error) {
        if (undelivered(error)) return; // still not through: try again after the next reconnect
      }
      queue.shift();
      sentLater += 1;
    }
  };
  /** Sends what is queued, in order; one drain at a time. */
  const flush = (): Promise<void> => {
    if (flushing) return flushing;
    if (!queue.length) return Promise.resolve();
    const p = drain().finally(() => {
      if (flushing === p) flushing = undefined;
    });
    flushing = p;
    return p;
  };

  return {
    /** Sends now, or queues when it cannot be delivered; resolves the answer or undefined. */
    call: async <T>(action: string, params: Record<string, unknown>): Promise<T | undefined> => {
      // Behind queued messages: order matters (Started before Updated before Ended).
      if (queue.length || !canSend()) {
        enqueue({ action, params });
        if (canSend()) void flush();
        return undefined;
      }
      try {
        return (await send(action, params)) as T;
      } catch (error) {
        if (undelivered(error)) enqueue({ action, params });
        return undefined;
      }
    },
    flush,
    size: () => queue.length,
    sentLater: () => sentLater,
  };
};
