import type { OcppVersion } from "../../../contracts/csms/mqtt";
import type { ManagerContext, Req } from "./context";

type TokenStatus = "Accepted" | "Blocked" | "Expired" | "Invalid";
type Token = { status: string; expiresAt: Date | null };

/** Tokens (idTags) and the Authorize CALL. */
export const createTokens = ({ db, opts, state }: ManagerContext) => {
  /** Tokens change rarely and are asked for on every Authorize / start: kept 10 s (and dropped when the API changes one). */
  const tokenCache = new Map<string, { token: Token | null; at: number }>();
  /** Set once every token was loaded: alone, an idTag not in the cache is an unknown one. */
  let tokensComplete = false;
  /** Tokens the API changed since they were cached: read again. */
  const changedTokens = new Set<string>();

  /** Loads every token at start (warm-up) when there are at most 50,000; returns how many there were. */
  const warmUp = async () => {
    const tokens = await db.csmsToken.findMany({ select: { idTag: true, status: true, expiresAt: true }, take: 50_001 });
    if (tokens.length <= 50_000) {
      const at = Date.now();
      for (const t of tokens) if (!tokenCache.has(t.idTag)) tokenCache.set(t.idTag, { token: { status: t.status, expiresAt: t.expiresAt }, at });
      tokensComplete = true;
    }
    return tokens.length;
  };

  const findToken = async (idTag: string) => {
    const hit = tokenCache.get(idTag);
    if (hit && (tokensComplete && !state.otherManagers ? true : Date.now() - hit.at < 10_000)) return hit.token;
    if (!hit && tokensComplete && !state.otherManagers && !changedTokens.has(idTag)) return null;
    changedTokens.delete(idTag);
    const token = await db.csmsToken.findUnique({ where: { idTag }, select: { status: true, expiresAt: true } });
    tokenCache.set(idTag, { token, at: Date.now() });
    if (tokenCache.size > 50_000) tokenCache.delete(tokenCache.keys().next().value!);
    return token;
  };
  const authorize = async (idTag: unknown): Promise<TokenStatus> => {
    if (typeof idTag !== "string" || !idTag) return "Invalid";
    const token = await findToken(idTag);
    if (!token) return opts.acceptUnknownTokens ? "Accepted" : "Invalid";
    if (token.status === "Accepted" && token.expiresAt && token.expiresAt.getTime() < Date.now()) return "Expired";
    return token.status as TokenStatus;
  };

  /** Authorize (1.6 idTag, 2.0.1 idToken). */
  const onAuthorize = async (version: OcppVersion, r: Req): Promise<Req> => {
    if (version === "ocpp1.6") return { idTagInfo: { status: await authorize(r.idTag) } };
    const token = r.idToken as { idToken?: unknown; type?: unknown } | undefined;
    if (token?.type === "NoAuthorization") return { idTokenInfo: { status: "Accepted" } };
    return { idTokenInfo: { status: await authorize(token?.idToken) } };
  };

  return {
    warmUp,
    authorize,
    onAuthorize,
    /** The API created, changed or deleted a token: read it again next time. */
    changed: (idTag: string) => {
      tokenCache.delete(idTag);
      changedTokens.add(idTag);
    },
  };
};
export type Tokens = ReturnType<typeof createTokens>;
