import { HttpError } from "../../lib/http";

/** Opaque keyset cursors: base64url JSON, refused with a clear 400 when tampered with. */
export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export const decodeCursor = <T>(raw: string | undefined): T | undefined => {
  if (!raw) return undefined;
  try {
    return JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as T;
  } catch {
    throw new HttpError(400, "invalid_input", "invalid cursor", [{ path: "query.cursor", message: "not a cursor this API returned" }]);
  }
};
