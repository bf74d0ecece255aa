import { z } from "zod";
import { idPattern } from "../../contracts/flex/entities";
import { zEmbeddedMqttPort, zList, zMqttUrl, zPort } from "../../lib/env";

const zPairs = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const part of s.split(",").map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf("=");
    if (i <= 0) {
      ctx.addIssue({ code: "custom", message: `"${part}" is not id=value` });
      continue;
    }
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
});

/** `id:ROLE:token` triples. */
const zParticipants = z.string().transform((s, ctx) =>
  s
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((part) => {
      const [id, role, token] = part.split(":");
      if (!id || !idPattern.test(id) || !["TSO", "DSO", "FSP"].includes(role ?? "") || !token || token.length < 16) {
        ctx.addIssue({ code: "custom", message: `"${part.split(":").slice(0, 2).join(":")}:…" is not id:TSO|DSO|FSP:token (token 16+ characters)` });
        return [];
      }
      return [{ id, role: role as "TSO" | "DSO" | "FSP", token }];
    }),
);

/** Every setting a standalone flex node reads (services/flex/README.md lists them). */
export const flexNodeEnvSchema = z.object({
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
  FLEX_NODE_ID: z.string().regex(idPattern).default("flex-1"),
  FLEX_ROLE: z.enum(["TSO", "DSO"]).default("DSO"),
  FLEX_MARKET_ID: z.string().regex(idPattern).default("afrr"),
  FLEX_HOST: z.string().default("127.0.0.1"),
  FLEX_PORT: zPort.default(8200),
  FLEX_GRID_NODES: zList.default(["gn-1"]),
  /** Unset → the node runs its own closed broker on FLEX_MQTT_PORT. */
  FLEX_MQTT_URL: zMqttUrl.optional(),
  FLEX_MQTT_USERNAME: z.string().optional(),
  FLEX_MQTT_PASSWORD: z.string().optional(),
  FLEX_MQTT_PORT: zEmbeddedMqttPort.default(1885),
  FLEX_TOPIC_ROOT: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/).default("flex/v1"),
  FLEX_PARTICIPANTS: zParticipants.optional(),
  FLEX_CONSOLE_TOKEN: z.string().min(16).optional(),
  FLEX_PEERS: zPairs.default({}),
  FLEX_PEER_KEYS: zPairs.default({}),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be redis://… or rediss://…").optional(),
  FLEX_REDIS_PREFIX: z.string().min(1).default("switchyard:flex"),
  FLEX_STORE: z.enum(["memory", "file", "redis"]).optional(),
  FLEX_PEER_TRANSPORT: z.enum(["http", "redis"]).optional(),
  FLEX_PERIOD_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  FLEX_BUNDLE_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  FLEX_STEP_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  FLEX_ACK_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  FLEX_SEND_CHUNK: z.coerce.number().int().min(1).max(100_000).default(200),
  FLEX_SIGN_BATCH: z.coerce.number().int().min(1).max(65_536).default(200),
  FLEX_ACTIVATION_QOS: z.coerce.number().pipe(z.union([z.literal(0), z.literal(1)], { error: "must be 0 or 1" })).default(0),
  FLEX_OFFER_RATE: z.coerce.number().positive().max(10_000).default(5),
  FLEX_OFFER_BURST: z.coerce.number().int().positive().max(100_000).default(20),
});
export type FlexNodeEnv = z.infer<typeof flexNodeEnvSchema>;
