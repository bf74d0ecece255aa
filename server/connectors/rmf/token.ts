import "server-only";
import { SignJWT } from "jose";
import { RMF_JWT_ALGORITHM, RMF_JWT_AUDIENCE, type RmfPermission } from "../../../contracts/rmf";

export type RmfTokenOptions = { secret: string; issuer: string };

/** How long a minted token lives; it is renewed well before that (see `createTokenCache`). */
const TOKEN_TTL_S = 60 * 60;
const RENEW_AFTER_MS = (TOKEN_TTL_S / 2) * 1000;

/**
 * Signs the JWT the RMF api-server expects (services/rmf/README.md "Authentication"):
 * HS256 with the shared secret, audience `rmf_api_server`, the configured issuer, the user in
 * `preferred_username`, Switchyard's `permissions` claim. The same shape rmf-web accepts.
 */
export const signRmfToken = ({ secret, issuer, username, permissions }: RmfTokenOptions & { username: string; permissions: readonly RmfPermission[] }) =>
  new SignJWT({ preferred_username: username, permissions: [...permissions] })
    .setProtectedHeader({ alg: RMF_JWT_ALGORITHM, typ: "JWT" })
    .setAudience(RMF_JWT_AUDIENCE)
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_TTL_S}s`)
    .setSubject(username)
    .sign(new TextEncoder().encode(secret));

/** Tokens by user and permission set, re-signed once half their life has passed. */
export const createTokenCache = (options: RmfTokenOptions) => {
  const cache = new Map<string, { token: Promise<string>; at: number }>();
  return (username: string, permissions: readonly RmfPermission[]) => {
    const key = `${username}\u0000${[...permissions].sort().join(",")}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < RENEW_AFTER_MS) return hit.token;
    if (cache.size > 1000) cache.clear();
    const token = signRmfToken({ ...options, username, permissions });
    cache.set(key, { token, at: Date.now() });
    return token;
  };
};
export type TokenMinter = ReturnType<typeof createTokenCache>;
