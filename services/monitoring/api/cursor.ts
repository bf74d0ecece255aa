import { z } from "zod";
import { HttpError } from "../../lib/http";

/**
 * Opaque keyset cursors: base64url JSON, checked against the shape this API hands out, so a
 * tampered one is a clear 400 (never a database error answered as 503, nor silently page one).
 */
export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

const invalid = () => new HttpError(400, "invalid_input", "invalid cursor", [{ path: "query.cursor", message: "not a cursor this API returned" }]);

export const decodeCursor = <T extends z.ZodType>(raw: string | undefined, schema: T): z.infer<T> | undefined => {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid();
  return parsed.data;
};

/** The raw-data API's sample cursor: the last row's event time (ms, a valid date) and part. */
export const sampleCursorSchema = z.strictObject({ t: z.number().int().min(0).max(8.64e15), part: z.string().max(200) });
/** The alarm list's cursor: the last alarm's creation time and id. */
export const alarmCursorSchema = z.strictObject({ at: z.iso.datetime({ offset: true }), id: z.string().min(1).max(200) });
