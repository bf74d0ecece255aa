import type { Broker, BrokerStats, ConsumeOptions, Delivery, OutMessage } from "./broker";
import { BrokerBusyError } from "./broker";

/**
 * The default broker: queues in this process's memory, one per consumer group. Nothing is
 * persisted, so a crash (kill -9) loses every message queued and not yet stored — at most
 * `maxQueued` of them. That is why an ingest answer of 200 ("queued") over this broker is a
 * promise only while the process lives; 201 (synchronous) means stored. A full queue refuses
 * new messages (BrokerBusyError → 503 to the sender) instead of growing without bound. A topic
 * no group consumes in this process keeps nothing (the service starts its consumers first).
 */
type Group = { queue: OutMessage[]; options: ConsumeOptions; active: number; closed: boolean; retryTimer?: NodeJS.Timeout; failures: number };

export const createInProcessBroker = ({ maxQueued = 200_000 }: { maxQueued?: number } = {}): Broker => {
  const topics = new Map<string, Map<string, Group>>();
  const latest = new Map<string, unknown>();
  const latestListeners = new Map<string, Set<(value: unknown, trusted: boolean) => void>>();
  const idle = new Set<() => void>();
  const counters = { published: 0, delivered: 0, redelivered: 0, failedBatches: 0 };
  let closing = false;

  const queued = () => {
    let n = 0;
    for (const groups of topics.values()) for (const g of groups.values()) n += g.queue.length;
    return n;
  };
  const handling = () => {
    let n = 0;
    for (const groups of topics.values()) for (const g of groups.values()) n += g.active;
    return n;
  };

  const notifyIdle = () => {
    if (queued() > 0 || handling() > 0) return;
    for (const fn of idle) fn();
    idle.clear();
  };

  /** Hands out batches until `inFlight` are being handled; each finished batch makes room for the next. */
  const run = (group: Group) => {
    const inFlight = Math.max(1, group.options.inFlight ?? 1);
    while (group.queue.length && !group.closed && group.retryTimer === undefined && group.active < inFlight) {
      const batch = group.queue.splice(0, group.options.maxBatch ?? 500);
      const redelivered = group.failures > 0;
      const deliveries: Delivery[] = batch.map((m) => ({ key: m.key, value: m.value, redelivered, trusted: true }));
      group.active += 1;
      void group.options
        .handle(deliveries)
        .then(
          () => {
            counters.delivered += batch.length;
            if (redelivered) counters.redelivered += batch.length;
            group.failures = 0;
          },
          () => {
            // Not acknowledged: back to the front, retried after a growing pause.
            group.queue.unshift(...batch);
            group.failures += 1;
            counters.failedBatches += 1;
            if (group.retryTimer === undefined && !group.closed) {
              const delay = Math.min(5000, 100 * 2 ** Math.min(group.failures, 6));
              group.retryTimer = setTimeout(() => {
                group.retryTimer = undefined;
                run(group);
              }, delay);
              group.retryTimer.unref();
            }
          },
        )
        .finally(() => {
          group.active -= 1;
          run(group);
          notifyIdle();
        });
    }
  };

  const stats = (): BrokerStats => ({ kind: "in-process", queued: queued(), ...counters });

  return {
    kind: "in-process",
    publish: async (topic, messages) => {
      if (closing) throw new BrokerBusyError("the broker is shutting down");
      if (queued() + messages.length > maxQueued) throw new BrokerBusyError(`in-process queue full (${maxQueued} messages)`);
      counters.published += messages.length;
      // Like a pub/sub topic without subscriptions: nobody consumes it here, nothing is kept.
      const groups = topics.get(topic);
      if (!groups || groups.size === 0) return;
      for (const g of groups.values()) {
        for (const m of messages) g.queue.push(m);
        run(g);
      }
    },
    consume: async (options) => {
      let groups = topics.get(options.topic);
      if (!groups) topics.set(options.topic, (groups = new Map()));
      if (groups.has(options.group)) throw new Error(`group ${options.group} already consumes ${options.topic} in this process`);
      const group: Group = { queue: [], options, active: 0, closed: false, failures: 0 };
      groups.set(options.group, group);
      run(group);
      return {
        close: async () => {
          group.closed = true;
          clearTimeout(group.retryTimer);
          group.retryTimer = undefined;
          groups.delete(options.group);
        },
      };
    },
    publishLatest: async (topic, value) => {
      latest.set(topic, value);
      for (const fn of latestListeners.get(topic) ?? []) fn(value, true);
    },
    subscribeLatest: async (topic, onValue) => {
      let set = latestListeners.get(topic);
      if (!set) latestListeners.set(topic, (set = new Set()));
      set.add(onValue);
      if (latest.has(topic)) onValue(latest.get(topic), true);
      return () => set.delete(onValue);
    },
    stats,
    drain: async () => {
      closing = true;
      // Handle what was promised to senders, unless every group is failing.
      const anyHealthy = [...topics.values()].some((gs) => [...gs.values()].some((g) => g.failures === 0));
      if ((queued() > 0 || handling() > 0) && anyHealthy) await new Promise<void>((resolve) => idle.add(resolve));
    },
    close: async () => {
      closing = true;
      for (const gs of topics.values()) {
        for (const g of gs.values()) {
          g.closed = true;
          clearTimeout(g.retryTimer);
        }
      }
    },
  };
};
