import { jwtVerify, SignJWT } from "jose";
import { RMF_JWT_ALGORITHM, RMF_JWT_AUDIENCE, rmfJwtClaimsSchema, type RmfPermission, type RmfUser } from "../../../contracts/rmf";

/**
 * rmf-web's token check (HS256, audience `rmf_api_server`, the configured issuer, the user
 * from `preferred_username`) plus Switchyard's `permissions` claim. Main and every proxy
 * verify the same tokens with the same secret; a proxy signs its own upstream token.
 */
export type JwtOptions = { secret: string; issuer: string };

export const createVerifier = ({ secret, issuer }: JwtOptions) => {
  const key = new TextEncoder().encode(secret);
  /** The user, or null for a missing, malformed, expired, never-expiring or foreign token. */
  return async (token: unknown): Promise<RmfUser | null> => {
    if (typeof token !== "string" || token.length === 0 || token.length > 8192) return null;
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: [RMF_JWT_ALGORITHM], audience: RMF_JWT_AUDIENCE, issuer, requiredClaims: ["exp"] });
      const claims = rmfJwtClaimsSchema.safeParse(payload);
      if (!claims.success) return null;
      return { username: claims.data.preferred_username, permissions: new Set(claims.data.permissions), fanOut: claims.data.switchyard_fan_out === true };
    } catch {
      return null;
    }
  };
};
export type Verifier = ReturnType<typeof createVerifier>;

/** Signs a token the way the console (or any Switchyard client) would present it. */
export const signToken = async ({
  secret,
  issuer,
  username,
  permissions,
  expiresIn = "12h",
  fanOut = false,
}: JwtOptions & { username: string; permissions: readonly RmfPermission[]; expiresIn?: string | number; fanOut?: boolean }) =>
  new SignJWT({ preferred_username: username, permissions: [...permissions], ...(fanOut ? { switchyard_fan_out: true } : {}) })
    .setProtectedHeader({ alg: RMF_JWT_ALGORITHM, typ: "JWT" })
    .setAudience(RMF_JWT_AUDIENCE)
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .setSubject(username)
    .sign(new TextEncoder().encode(secret));
