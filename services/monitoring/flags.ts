import type pino from "pino";
import type { SqlRunner } from "../../lib/db/migrate";
import { defaultFlags, FEATURE_TOPIC, featureMessageSchema, type FeatureFlags, type FeatureMessage, type FeatureName } from "../../contracts/monitoring";
import type { Broker } from "./messaging/broker";

/**
 * Feature flags: the whole set travels as one message on `system.feature` (a latest-value
 * topic on every region's broker) and every consumer reads `current()` per batch, so a
 * change applies live. The last message is also kept in the home region's store, so an
 * in-process broker starts from it after a restart. The highest version wins.
 */
export const createFlags = async ({ brokers, home, log, onChange = () => {} }: { brokers: Broker[]; home: SqlRunner; log: pino.Logger; onChange?: (m: FeatureMessage) => void }) => {
  let current: FeatureMessage = { flags: defaultFlags(), version: 0, updatedAt: new Date(0).toISOString(), updatedBy: "default" };
  const { rows } = await home.query<{ message: unknown }>(`SELECT message FROM "monitoring"."feature_state" WHERE id = 1`);
  const stored = featureMessageSchema.safeParse(typeof rows[0]?.message === "string" ? JSON.parse(rows[0].message) : rows[0]?.message);
  if (stored.success) current = stored.data;

  const accept = (value: unknown, trusted: boolean) => {
    const parsed = trusted ? { success: true as const, data: value as FeatureMessage } : featureMessageSchema.safeParse(value);
    if (!parsed.success) return log.warn("invalid system.feature message ignored");
    if (parsed.data.version <= current.version) return;
    current = parsed.data;
    onChange(current);
  };
  const unsubscribe = await Promise.all(brokers.map((b) => b.subscribeLatest(FEATURE_TOPIC, accept)));

  const set = async (name: FeatureName, enabled: boolean, actor: string) => {
    const next: FeatureMessage = { flags: { ...current.flags, [name]: enabled }, version: current.version + 1, updatedAt: new Date().toISOString(), updatedBy: actor };
    await home.query(`INSERT INTO "monitoring"."feature_state" (id, message) VALUES (1, $1::json) ON CONFLICT (id) DO UPDATE SET message = EXCLUDED.message`, [JSON.stringify(next)]);
    await Promise.all(brokers.map((b) => b.publishLatest(FEATURE_TOPIC, next)));
    accept(next, true);
    return current;
  };

  return {
    flags: (): FeatureFlags => current.flags,
    message: () => current,
    set,
    close: () => unsubscribe.forEach((u) => u()),
  };
};
export type Flags = Awaited<ReturnType<typeof createFlags>>;
