import { z } from "zod";

/**
 * Building blocks for every process's settings schema (console, site, services,
 * simulators), so a port or an MQTT URL is validated the same way everywhere.
 */
export const zPort = z.coerce.number().int().min(0).max(65535);
export const zBool = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");
export const zList = z.string().transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean));
export const zMqttUrl = z.string().regex(/^(mqtts?|wss?):\/\//, "must be mqtt://, mqtts://, ws:// or wss://");
export const zDatabaseUrl = z.string().regex(/^(postgres(ql)?:\/\/|memory:\/\/)/, "must be postgres://… or memory://");
export const zLogLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);
/** Never 1883 for an embedded broker: a system Mosquitto may own it. */
export const zEmbeddedMqttPort = zPort.refine((p) => p !== 1883, "1883 belongs to a system broker; pick another");

/**
 * One readable error listing every bad setting, or the parsed settings. A variable set to
 * the empty string (`FLEX_SIGN_BATCH= npm start`, an empty line in a compose file) counts as
 * unset and takes its default: `z.coerce.number()` would otherwise read it as 0.
 */
export const parseEnv = <S extends z.ZodType>(schema: S, source: Record<string, string | undefined> = process.env): z.infer<S> => {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== "") set[k] = v;
  const parsed = schema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  return parsed.data;
};
