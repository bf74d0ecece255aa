import { AckPolicy, connect, DeliverPolicy, JSONCodec, nanos, RetentionPolicy, StorageType, type ConsumerMessages, type JsMsg, type NatsConnection } from "nats";
import type pino from "pino";
import type { Broker, BrokerStats, ConsumeOptions, Delivery } from "./broker";

/**
 * NATS JetStream adapter. A topic `monitoring.pms` keyed by device `D` is the subject
 * `<prefix>.monitoring.pms.<base64url(D)>` in the region's stream; a consumer group is a
 * durable pull consumer (`group.monitoring.pms` → `group_monitoring_pms`) with explicit acks:
 * a batch is acknowledged only after it is stored, so a consumer killed with kill -9 loses
 * nothing — JetStream redelivers what it had not acknowledged after `ackWaitMs`. Publishing
 * waits for JetStream's PubAck (file storage), so an ingest 200 over NATS is durable.
 * Latest-value topics live in a second stream that keeps one message per subject.
 */
export type NatsBrokerOptions = {
  url: string;
  /** Subject prefix of this broker's topics, e.g. `sy.eu-north`. */
  subjectPrefix: string;
  /** Stream name; the latest-value stream is `<stream>_SYSTEM`. */
  stream: string;
  ackWaitMs?: number;
  maxAckPending?: number;
  /** Broker-side de-duplication window for Msg-Id (replays inside it are dropped). */
  duplicateWindowMs?: number;
  maxAgeMs?: number;
  user?: string;
  pass?: string;
  log: pino.Logger;
};

const jc = JSONCodec();
const token = (key: string) => Buffer.from(key, "utf8").toString("base64url") || "_";
const untoken = (t: string) => Buffer.from(t, "base64url").toString("utf8");
/** NATS durable names cannot contain dots. */
export const durableName = (group: string) => group.replaceAll(/[^A-Za-z0-9_-]/g, "_");

export const createNatsBroker = async (opts: NatsBrokerOptions): Promise<Broker> => {
  const { subjectPrefix, stream, log } = opts;
  const systemStream = `${stream}_SYSTEM`;
  const nc: NatsConnection = await connect({ servers: opts.url, user: opts.user, pass: opts.pass, name: `switchyard-monitoring-${subjectPrefix}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();

  const ensureStream = async (name: string, config: Record<string, unknown>) => {
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (error) {
      if (!/stream not found/i.test((error as Error).message)) throw error;
      await jsm.streams.add({ name, ...config });
    }
  };
  await ensureStream(stream, {
    subjects: [`${subjectPrefix}.monitoring.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(opts.duplicateWindowMs ?? 120_000),
    max_age: nanos(opts.maxAgeMs ?? 7 * 86_400_000),
  });
  await ensureStream(systemStream, { subjects: [`${subjectPrefix}.system.>`], storage: StorageType.File, max_msgs_per_subject: 1 });

  const counters = { published: 0, delivered: 0, redelivered: 0, failedBatches: 0 };
  const closers: (() => Promise<void>)[] = [];

  const consume = async ({ topic, group, maxBatch = 500, inFlight = 1, handle }: ConsumeOptions) => {
    const durable = durableName(group);
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${subjectPrefix}.${topic}.*`,
      ack_wait: nanos(opts.ackWaitMs ?? 30_000),
      max_ack_pending: opts.maxAckPending ?? 20_000,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(stream, durable);
      await jsm.consumers.update(stream, durable, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
    } catch (error) {
      if (!/consumer not found/i.test((error as Error).message)) throw error;
      await jsm.consumers.add(stream, config);
    }
    const consumer = await js.consumers.get(stream, durable);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(maxBatch * 2, 1000) });
    const buffer: JsMsg[] = [];
    const handling = new Set<Promise<void>>();
    let closed = false;

    /** One batch: decoded, handled, then acknowledged (or nak'ed for redelivery) message by message. */
    const handleBatch = async (batch: JsMsg[]) => {
      const deliveries: Delivery[] = [];
      for (const m of batch) {
        let value: unknown;
        try {
          value = jc.decode(m.data);
        } catch {
          value = undefined;
        }
        deliveries.push({ key: untoken(m.subject.slice(m.subject.lastIndexOf(".") + 1)), value, redelivered: m.redelivered, trusted: false });
      }
      try {
        await handle(deliveries);
        for (const m of batch) m.ack();
        counters.delivered += batch.length;
        counters.redelivered += batch.filter((m) => m.redelivered).length;
      } catch (error) {
        counters.failedBatches += 1;
        log.warn({ err: (error as Error).message, topic, size: batch.length }, "batch failed; asking JetStream to redeliver");
        for (const m of batch) m.nak(1000);
      }
    };
    // Up to `inFlight` batches at once; each finished one makes room for the next.
    const kick = () => {
      while (buffer.length && !closed && handling.size < Math.max(1, inFlight)) {
        const done: Promise<void> = handleBatch(buffer.splice(0, maxBatch)).finally(() => {
          handling.delete(done);
          kick();
        });
        handling.add(done);
      }
    };
    let scheduled = false;
    void (async () => {
      for await (const m of messages) {
        buffer.push(m);
        // Batch whatever arrived in this turn of the event loop.
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            kick();
          });
        }
      }
    })().catch((error: unknown) => log.warn({ err: (error as Error).message, topic }, "nats consumer stopped"));
    const close = async () => {
      closed = true;
      await Promise.all([...handling]);
      await messages.close();
    };
    closers.push(close);
    return { close };
  };

  const stats = (): BrokerStats => ({ kind: "nats", queued: 0, ...counters });

  return {
    kind: "nats",
    publish: async (topic, msgs) => {
      await Promise.all(msgs.map((m) => js.publish(`${subjectPrefix}.${topic}.${token(m.key)}`, jc.encode(m.value), m.id ? { msgID: m.id } : undefined)));
      counters.published += msgs.length;
    },
    consume,
    publishLatest: async (topic, value) => {
      await js.publish(`${subjectPrefix}.${topic}`, jc.encode(value));
    },
    subscribeLatest: async (topic, onValue) => {
      // The stored last message first (direct get), then live publishes on the plain subject;
      // after a reconnect the stored one is read again so nothing missed meanwhile is lost.
      const subject = `${subjectPrefix}.${topic}`;
      const deliver = (data: Uint8Array) => {
        try {
          onValue(jc.decode(data), false);
        } catch (error) {
          log.warn({ err: (error as Error).message, topic }, "undecodable latest-value message ignored");
        }
      };
      const readStored = async () => {
        const m = await jsm.streams.getMessage(systemStream, { last_by_subj: subject }).catch(() => undefined);
        if (m) deliver(m.data);
      };
      const sub = nc.subscribe(subject, { callback: (error, m) => !error && deliver(m.data) });
      await readStored();
      let watching = true;
      void (async () => {
        for await (const s of nc.status()) {
          if (!watching) break;
          if (s.type === "reconnect") await readStored();
        }
      })().catch(() => {});
      const stop = async () => {
        watching = false;
        sub.unsubscribe();
      };
      closers.push(stop);
      return () => void stop();
    },
    stats,
    drain: async () => {},
    close: async () => {
      for (const fn of closers.reverse()) await fn().catch(() => {});
      await nc.drain().catch(() => nc.close());
    },
  };
};
