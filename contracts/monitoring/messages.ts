import { z } from "zod";
import { buildingTelemetrySchema } from "./building";
import { datasetSchemas, type Dataset, type DatasetBody } from "./datasets";

/**
 * What the ingest publishes on `monitoring.<dataset>` (one message per posted dataset, i.e.
 * one device's block, keyed by its device id) and the consumers validate on receipt. The
 * region travels with the message: a consumer drops any message for a region it does not
 * store, so nothing can land in another region's store by mistake.
 */
const envelope = {
  v: z.literal(1),
  region: z.string().regex(/^[a-z0-9-]{1,32}$/),
  site: z.string().min(1),
  sender: z.string().min(1),
  /** Epoch ms when the ingest accepted it (time_processing; and the benchmark's clock). */
  receivedAt: z.number().int().positive(),
};

export const datasetMessageSchemas = {
  pms: z.strictObject({ ...envelope, dataset: z.literal("pms"), body: datasetSchemas.pms }),
  mppt: z.strictObject({ ...envelope, dataset: z.literal("mppt"), body: datasetSchemas.mppt }),
  inverter: z.strictObject({ ...envelope, dataset: z.literal("inverter"), body: datasetSchemas.inverter }),
  building: z.strictObject({
    ...envelope,
    dataset: z.literal("building"),
    body: z.strictObject({ building: z.string().min(1), device: z.string().min(1), telemetry: buildingTelemetrySchema }),
  }),
} as const;

export type DatasetMessage<D extends Dataset = Dataset> = { v: 1; region: string; site: string; sender: string; receivedAt: number; dataset: D; body: DatasetBody[D] };
export type BuildingMessage = z.infer<typeof datasetMessageSchemas.building>;
export type IngestMessage = DatasetMessage | BuildingMessage;
export const MESSAGE_DATASETS = ["pms", "mppt", "inverter", "building"] as const;
export type MessageDataset = (typeof MESSAGE_DATASETS)[number];
