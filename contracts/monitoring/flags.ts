import { z } from "zod";

/**
 * Feature flags, published on the `system.feature` topic and applied live by every consumer
 * (Sundaya sys_env_config "operational" features, plus Switchyard's own).
 */
export const FEATURE_TOPIC = "system.feature";

export const FEATURE_FLAGS = {
  /** In-depth plausibility checks at ingest (cell ≤ 5 V, temperatures ≤ 150 °C, …) beyond the schema. */
  validation: { default: true, description: "In-depth plausibility checks of posted values beyond the schema" },
  /** Alarm rules evaluated on every stored record, and the silent-device sweep. */
  alarms: { default: true, description: "Evaluate alarm rules on incoming records" },
  /** The Producer republishes transformed records on `monitoring.<dataset>.dataset`. */
  publish: { default: false, description: "Republish transformed records on monitoring.<dataset>.dataset" },
  /** Every consumed message logged at info (messaging statements); off = debug only. */
  logging: { default: false, description: "Log every consumed message (messaging statements)" },
} as const;
export type FeatureName = keyof typeof FEATURE_FLAGS;
export const FEATURE_NAMES = Object.keys(FEATURE_FLAGS) as FeatureName[];

export type FeatureFlags = Record<FeatureName, boolean>;
export const defaultFlags = (): FeatureFlags => Object.fromEntries(FEATURE_NAMES.map((n) => [n, FEATURE_FLAGS[n].default])) as FeatureFlags;

/** The message on `system.feature`: the whole set, so a late subscriber needs only the last one. */
export const featureMessageSchema = z.strictObject({
  flags: z.strictObject(Object.fromEntries(FEATURE_NAMES.map((n) => [n, z.boolean()])) as Record<FeatureName, z.ZodBoolean>),
  version: z.number().int().min(0),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type FeatureMessage = z.infer<typeof featureMessageSchema>;

export const setFlagBodySchema = z.strictObject({ enabled: z.boolean({ error: "must be true or false" }) });
