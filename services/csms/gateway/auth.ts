import { createHash, timingSafeEqual } from "node:crypto";
import type pino from "pino";
import { chargeStationAuthSchema, type ChargeStationAuth } from "../../../contracts/csms/mqtt";

/**
 * How the gateway decides whether a station may connect (OCPP security profile 1: HTTP
 * basic auth, username = station id).
 *
 * - `password` is the basic-auth password, or undefined when the upgrade carried no
 *   (parsable) Authorization header.
 * - `usernameMatches` is false when the basic-auth username differs from the id in the URL;
 *   MaEVe lets a registration tolerate that (`invalidUsernameAllowed`).
 *
 * Resolve true to accept and false to refuse with 401. Throw when the answer is unknown
 * (the registry is unreachable): the gateway then refuses with 503, so the station backs off
 * and retries instead of concluding that its password is wrong.
 */
export type Authenticate = (stationId: string, password: string | undefined, ctx: { usernameMatches: boolean }) => Promise<boolean>;

export const base64Sha256 = (password: string) => createHash("sha256").update(password, "utf8").digest("base64");

/** Checks a password against a MaEVe-style registration record. */
export const passwordMatches = (record: ChargeStationAuth, password: string | undefined, usernameMatches: boolean) => {
  // Profile 2 (client certificates) needs TLS termination this gateway does not do.
  if (record.securityProfile > 1) return false;
  if (!usernameMatches && !record.invalidUsernameAllowed) return false;
  if (password === undefined || !record.base64SHA256Password) return false;
  const expected = Buffer.from(record.base64SHA256Password, "base64");
  const actual = Buffer.from(base64Sha256(password), "base64");
  // Constant time, so response timing leaks nothing about how much of the hash matched.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
};

/** Accepts every station, with or without credentials. Only for simulators and benchmarks. */
export const allowAnyStation: Authenticate = async () => true;

export type ManagerAuthenticatorOptions = {
  /** The manager's base URL, e.g. http://127.0.0.1:9410. */
  managerUrl: string;
  /** Sent as `x-gateway-token`, so the manager can refuse lookups from anything but a gateway. */
  token?: string;
  timeoutMs?: number;
  /**
   * How long a registration record is reused. A gateway restart makes every station
   * reconnect at once; without the cache that is one manager lookup per station per retry.
   * Only found records are cached, so a freshly registered station is accepted at once.
   */
  cacheTtlMs?: number;
  log?: pino.Logger;
};

/**
 * The production authenticator: asks the manager for the station's registration.
 *
 * Contract (MaEVe's `lookupChargeStationAuth`, plus a shared-secret header):
 *
 *   GET {managerUrl}/api/v0/cs/{urlencoded stationId}/auth
 *   x-gateway-token: <CSMS_GATEWAY_TOKEN>          (omitted when no token is configured)
 *
 *   200 {"securityProfile":0,"base64SHA256Password":"<base64 sha256 of the password>","invalidUsernameAllowed":false}
 *   404 unknown station                      → refused with 401
 *   401/403 wrong gateway token              → refused with 401 and logged as an error
 *   anything else, timeout, network error    → refused with 503 (the station retries)
 *
 * The manager never sees the station's password, only its hash; the gateway compares.
 */
export const createManagerAuthenticator = (opts: ManagerAuthenticatorOptions): Authenticate => {
  const base = opts.managerUrl.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 5000;
  const ttl = opts.cacheTtlMs ?? 30_000;
  const cache = new Map<string, { record: ChargeStationAuth; expires: number }>();
  // Concurrent upgrades of one station share one lookup.
  const inflight = new Map<string, Promise<ChargeStationAuth | undefined>>();

  const lookup = async (stationId: string): Promise<ChargeStationAuth | undefined> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.token) headers["x-gateway-token"] = opts.token;
    const res = await fetch(`${base}/api/v0/cs/${encodeURIComponent(stationId)}/auth`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      opts.log?.error({ stationId, status: res.status }, "manager refused the gateway token; check CSMS_GATEWAY_TOKEN");
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`manager auth lookup answered ${res.status}`);
    }
    const parsed = chargeStationAuthSchema.safeParse(await res.json());
    if (!parsed.success) throw new Error(`manager auth lookup returned an invalid body: ${parsed.error.issues[0]?.message ?? "?"}`);
    return parsed.data;
  };

  return async (stationId, password, { usernameMatches }) => {
    const now = Date.now();
    const cached = cache.get(stationId);
    let record = cached && cached.expires > now ? cached.record : undefined;
    if (!record) {
      let pending = inflight.get(stationId);
      if (!pending) {
        pending = lookup(stationId).finally(() => inflight.delete(stationId));
        inflight.set(stationId, pending);
      }
      record = await pending;
      if (!record) {
        cache.delete(stationId);
        return false;
      }
      cache.set(stationId, { record, expires: now + ttl });
      // Bound the cache: ids are attacker-chosen only after a successful lookup, but a
      // large fleet still should not grow it forever.
      if (cache.size > 100_000) for (const [k, v] of cache) if (v.expires <= now) cache.delete(k);
    }
    const ok = passwordMatches(record, password, usernameMatches);
    // A wrong password may mean the password was just changed; look it up afresh next time.
    if (!ok) cache.delete(stationId);
    return ok;
  };
};
