/**
 * Canonical JSON for signatures: object keys sorted, no whitespace, `undefined` members
 * dropped, numbers as JSON writes them. Signer and verifier serialise the same value to
 * the same bytes whatever order the keys arrived in, so a relay may re-parse a message.
 * `omit` leaves out top-level members by name (a message's own signature and proof).
 */
export const canonicalJson = (value: unknown, omit?: ReadonlySet<string>): string => {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("canonical JSON has no representation for NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + (value[i] === undefined ? "null" : canonicalJson(value[i]));
    return out + "]";
  }
  // Keys sorted by UTF-16 code units (what `<` compares), as before; a plain loop, since
  // every activation a device checks goes through here.
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = "{";
  for (const k of keys) {
    const v = record[k];
    if (v === undefined || omit?.has(k)) continue;
    out += (out.length > 1 ? "," : "") + JSON.stringify(k) + ":" + canonicalJson(v);
  }
  return out + "}";
};
