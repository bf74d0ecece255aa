/**
 * The messaging framework's broker port (Sundaya "Messaging"): topics keyed by device id,
 * consumer groups that share a topic's messages, and latest-value topics for configuration
 * (`system.feature`). Adapters: in-process (default) and NATS JetStream; which one runs is
 * configuration (MONITORING_BROKER). No Kafka adapter: there is no Kafka here to test it on.
 */
export type OutMessage = {
  key: string;
  value: unknown;
  /** Broker-side de-duplication id (NATS Msg-Id): a replay inside the window is dropped. */
  id?: string;
};

export type Delivery = {
  key: string;
  value: unknown;
  /** Delivered before and not acknowledged (the previous consumer died or failed). */
  redelivered: boolean;
  /** In-process deliveries hand over the publisher's own object; wire deliveries must be validated. */
  trusted: boolean;
};

export type ConsumeOptions = {
  topic: string;
  group: string;
  maxBatch?: number;
  /** Batches handed to `handle` at once (in-process broker; default 1). The handler keeps their effects in order. */
  inFlight?: number;
  /** Resolving acknowledges the whole batch; rejecting has it redelivered. */
  handle: (batch: Delivery[]) => Promise<void>;
};

export type BrokerStats = { kind: Broker["kind"]; queued: number; published: number; delivered: number; redelivered: number; failedBatches: number };

export type Broker = {
  kind: "in-process" | "nats";
  /** Resolves once the broker holds every message (NATS: each PubAck; in-process: queued). */
  publish: (topic: string, messages: OutMessage[]) => Promise<void>;
  consume: (options: ConsumeOptions) => Promise<{ close: () => Promise<void> }>;
  /** A topic where only the newest message matters; late subscribers get it first. */
  publishLatest: (topic: string, value: unknown) => Promise<void>;
  subscribeLatest: (topic: string, onValue: (value: unknown, trusted: boolean) => void) => Promise<() => void>;
  stats: () => BrokerStats;
  /** Refuses new messages and waits until those queued here are handled (no-op for NATS: it keeps them). */
  drain: () => Promise<void>;
  /** Stops consuming after the batches in hand. */
  close: () => Promise<void>;
};

/** The broker cannot take more right now (in-process queue full): the sender should retry. */
export class BrokerBusyError extends Error {}
