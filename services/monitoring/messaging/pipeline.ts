import type pino from "pino";
import {
  consumerGroup,
  datasetMessageSchemas,
  describeIssues,
  issuesOf,
  MESSAGE_DATASETS,
  monitoringTopic,
  transformedTopic,
  type BuildingMessage,
  type DatasetMessage,
  type FeatureFlags,
  type IngestMessage,
  type MessageDataset,
} from "../../../contracts/monitoring";
import { deriveBuildingRecord, deriveRecords, recordKey, type StoredRecord } from "../transform/derive-records";
import type { SampleWriter } from "../storage/sample-writer";
import type { Broker, Delivery } from "./broker";
import type { RegionStore } from "../storage/region-store";
import type { Rollups } from "../storage/rollups";
import type { LatestValues } from "../storage/latest-values";
import type { AlarmEngine } from "../alarms/alarm-engine";

/**
 * The messaging framework of one region (Sundaya "Messaging", the design's names):
 *   Subscriber  — listens on `monitoring.<dataset>` as consumer group `group.monitoring.<dataset>`
 *   Consumer    — validate (wire messages against the contract) → analyse (flags, logging)
 *   Producer    — transform (stored records with derived fields) → Storage.write, Publisher.publish
 *   Storage     — landing zone (deduplicated) → rollups, latest values, alarms
 *   Publisher   — republishes transformed records on `monitoring.<dataset>.dataset` (flag `publish`)
 * A batch is acknowledged only after Storage.write committed it. Several batches may be in
 * flight (`inFlight`, the in-process broker; the sample writer keeps their effects in order).
 */
export type PipelineHooks = {
  /** Every key of a written batch (new or already stored): synchronous ingest waits on these. */
  onWritten?: (keys: string[]) => void;
  /** Devices whose latest values changed, and alarms raised/changed happen through their own hooks. */
  onDevicesChanged?: (region: string, devices: Set<string>) => void;
};

export type RegionPipeline = {
  region: string;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  stats: () => { consumed: number; stored: number; duplicates: number; invalid: number; misrouted: number; foreign: number; lastSeq: number };
};

type Metrics = { consumed: (dataset: string, n: number) => void; stored: (dataset: string, n: number) => void; invalid: (reason: string) => void };

export const createRegionPipeline = ({
  region,
  broker,
  store,
  writer,
  rollups,
  latest,
  alarms,
  flags,
  log,
  hooks = {},
  metrics,
  maxBatch = 500,
  inFlight = store.inserts.length + 1,
}: {
  region: string;
  broker: Broker;
  store: RegionStore;
  /** The region's landing-zone writer (storage/sample-writer.ts). */
  writer: SampleWriter;
  rollups: Rollups;
  latest: LatestValues;
  alarms: AlarmEngine;
  flags: () => FeatureFlags;
  log: pino.Logger;
  hooks?: PipelineHooks;
  metrics?: Metrics;
  maxBatch?: number;
  /** Batches of one consumer group handled at once (brokers that support it). */
  inFlight?: number;
}): RegionPipeline => {
  const counts = { consumed: 0, stored: 0, duplicates: 0, invalid: 0, misrouted: 0, foreign: 0, lastSeq: 0 };
  const subscriptions: { close: () => Promise<void> }[] = [];
  let lastInvalidLog = 0;

  // ---- Consumer: validate, analyse ----
  const validate = (dataset: MessageDataset, d: Delivery): IngestMessage | undefined => {
    let message = d.value as IngestMessage;
    if (!d.trusted) {
      const parsed = datasetMessageSchemas[dataset].safeParse(d.value);
      if (!parsed.success) {
        counts.invalid += 1;
        metrics?.invalid("schema");
        // A poison message is dropped (acknowledged), never retried forever; logged at most every 10 s.
        if (Date.now() - lastInvalidLog > 10_000) {
          lastInvalidLog = Date.now();
          log.warn({ dataset, key: d.key, issues: describeIssues(issuesOf(parsed.error)).slice(0, 500) }, "invalid message dropped");
        }
        return undefined;
      }
      message = parsed.data as IngestMessage;
    }
    if (message.region !== region) {
      counts.misrouted += 1;
      metrics?.invalid("region");
      log.error({ dataset, key: d.key, region: message.region, store: region }, "message for another region dropped");
      return undefined;
    }
    return message;
  };

  const analyse = (dataset: MessageDataset, messages: IngestMessage[], redelivered: number) => {
    if (flags().logging) log.info({ dataset, messages: messages.length, redelivered }, "consumed");
    else log.debug({ dataset, messages: messages.length, redelivered }, "consumed");
  };

  // ---- Producer: transform ----
  const transform = (messages: IngestMessage[]): StoredRecord[] =>
    messages.flatMap((m) =>
      m.dataset === "building"
        ? [deriveBuildingRecord((m as BuildingMessage).body, { site: m.site, sender: m.sender, processedAt: m.receivedAt })]
        : deriveRecords(m.dataset, (m as DatasetMessage).body, { site: m.site, sender: m.sender, processedAt: m.receivedAt }),
    );

  // ---- Storage: write ----
  let lastForeignLog = 0;
  /**
   * A device belongs to the site that first reported it (device ids are serials, unique per
   * region): records for it from another site's sender are dropped, so one site's key can
   * neither move another site's device, nor overwrite its latest values and alarms, nor
   * pre-empt its real samples as "duplicates". The HTTP ingest refuses them up front when it
   * runs in the same process; this is the guarantee when it does not.
   */
  // Claims by batches still in flight (their latest values are not applied yet); kept, a device's site never changes.
  const claimed = new Map<string, string>();
  const ownRecords = (records: StoredRecord[]) => {
    const own = records.filter((r) => {
      const site = latest.get(r.device)?.site ?? claimed.get(r.device);
      if (site === undefined) claimed.set(r.device, r.site);
      return site === undefined || site === r.site;
    });
    if (own.length < records.length) {
      counts.foreign += records.length - own.length;
      metrics?.invalid("foreign_device");
      if (Date.now() - lastForeignLog > 10_000) {
        lastForeignLog = Date.now();
        log.warn({ region, dropped: records.length - own.length }, "records for another site's device dropped");
      }
    }
    return own;
  };

  const write = async (dataset: MessageDataset, all: StoredRecord[]) => {
    const records = ownRecords(all);
    if (records.length === 0) return records;
    await writer.write(records, (inserted) => {
      counts.stored += inserted.length;
      for (const i of inserted) if (i.seq > counts.lastSeq) counts.lastSeq = i.seq;
      counts.duplicates += records.length - inserted.length;
      metrics?.stored(dataset, inserted.length);
      // In commit order (the writer's): rollup watermarks rely on folding in `seq` order.
      rollups.fold(inserted);
      const { changed, current } = latest.apply(inserted.map((i) => i.record));
      if (flags().alarms) alarms.evaluate(current);
      hooks.onWritten?.(records.map(recordKey));
      if (changed.size) hooks.onDevicesChanged?.(region, changed);
    });
    return records;
  };

  // ---- Publisher ----
  const publish = async (dataset: MessageDataset, records: StoredRecord[]) => {
    if (!flags().publish || records.length === 0) return;
    await broker.publish(transformedTopic(dataset), records.map((r) => ({ key: r.device, value: { ...r.record } })));
  };

  const consume = (dataset: MessageDataset) => async (batch: Delivery[]) => {
    counts.consumed += batch.length;
    metrics?.consumed(dataset, batch.length);
    const messages = batch.map((d) => validate(dataset, d)).filter((m): m is IngestMessage => m !== undefined);
    if (messages.length === 0) return;
    analyse(dataset, messages, batch.filter((d) => d.redelivered).length);
    const records = transform(messages);
    const own = await write(dataset, records);
    await publish(dataset, own).catch((error: unknown) => log.warn({ err: (error as Error).message, dataset }, "republish failed"));
  };

  return {
    region,
    start: async () => {
      for (const dataset of MESSAGE_DATASETS) {
        subscriptions.push(await broker.consume({ topic: monitoringTopic(dataset), group: consumerGroup(dataset), maxBatch, inFlight, handle: consume(dataset) }));
      }
    },
    stop: async () => {
      for (const s of subscriptions.splice(0)) await s.close();
    },
    stats: () => ({ ...counts }),
  };
};
