import type { Prisma } from "@prisma/client";
import type { z } from "zod";

export { actionLabel, createLogThrottle } from "../common";

/** What the manager reads from MQTT and stations, checked before anything is done with it. */

export const BAD_PAYLOAD_KINDS = ["envelope", "presence", "gateway", "feed"] as const;
export type BadPayloadKind = (typeof BAD_PAYLOAD_KINDS)[number];

/** JSON-parses and checks a payload against its contract; the issue text on failure. */
export const parsePayload = <T extends z.ZodType>(schema: T, payload: Buffer): { ok: true; data: z.infer<T> } | { ok: false; reason: "json" | "schema"; detail: string } => {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    return { ok: false, reason: "json", detail: (error as Error).message };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: "schema", detail: parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ") };
  return { ok: true, data: parsed.data };
};

/**
 * The first string in a station's payload that PostgreSQL cannot store (text and jsonb
 * refuse U+0000), as a dotted path, e.g. `idTag` or `meterValue.0.sampledValue.1.value`.
 */
export const unstorableField = (value: unknown, path = ""): string | undefined => {
  if (typeof value === "string") return value.includes("\u0000") ? path || "payload" : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = unstorableField(value[i], path ? `${path}.${i}` : String(i));
      if (bad) return bad;
    }
    return undefined;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const bad = unstorableField(k, path) ?? unstorableField(v, path ? `${path}.${k}` : k);
      if (bad) return bad;
    }
  }
  return undefined;
};

/** A CALLERROR for a station CALL the CSMS refuses on purpose (bad input, not a failure). */
export class CallRefused extends Error {
  constructor(
    readonly code: "PropertyConstraintViolation" | "NotSupported" | "NotImplemented" | "OccurrenceConstraintViolation",
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** jsonb refuses \u0000; such payloads are stored with it replaced. */
export const jsonSafe = (value: unknown): Prisma.InputJsonValue => {
  const text = JSON.stringify(value ?? {});
  return (text.includes("\\u0000") ? JSON.parse(text.replaceAll("\\u0000", "\\ufffd")) : value) as Prisma.InputJsonValue;
};

