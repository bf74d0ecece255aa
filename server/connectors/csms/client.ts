import "server-only";
import type {
  CommandAction,
  ManagerCommandResult,
  MessageLogEntry,
  Page,
  StationDetail,
  StationsSnapshot,
  StationView,
  TokenStatus,
  TokenView,
  TransactionDetail,
  TransactionView,
} from "../../../contracts/csms";

export type CsmsField = { path: string; message: string };

/** The manager answered with an error status (API.md: `{ error, message, fields? }`). */
export class CsmsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: CsmsField[] = [],
  ) {
    super(message);
  }
}

/** The manager could not be reached at all (refused, reset, DNS, timeout). */
export class CsmsUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`CSMS manager unreachable at ${url}: ${reason}`);
  }
}

export type CsmsClientOptions = {
  baseUrl: string;
  token: string | undefined;
  /** Per-request timeout for everything except commands and the event stream. */
  timeoutMs?: number;
};

type Query = Record<string, string | number | boolean | null | undefined>;
type RequestOptions = { method?: string; query?: Query; body?: unknown; signal?: AbortSignal; timeoutMs?: number | null };

const queryString = (query: Query = {}) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  const s = params.toString();
  return s ? `?${s}` : "";
};

const seg = encodeURIComponent;

/**
 * A typed client for the CSMS manager's `/api/v0` (services/csms/manager/API.md). Every
 * call carries the bearer token; failures come back as CsmsApiError (the manager said no)
 * or CsmsUnreachableError (nobody answered), which the router maps to tRPC errors.
 */
export const createCsmsClient = ({ baseUrl, token, timeoutMs = 10_000 }: CsmsClientOptions) => {
  const base = baseUrl.replace(/\/+$/, "");
  const headers = (extra: Record<string, string> = {}) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });

  const raw = async (path: string, { method = "GET", query, body, signal, timeoutMs: ms = timeoutMs }: RequestOptions = {}) => {
    const signals = [signal, ms ? AbortSignal.timeout(ms) : undefined].filter((s): s is AbortSignal => Boolean(s));
    let res: Response;
    try {
      res = await fetch(`${base}${path}${queryString(query)}`, {
        method,
        headers: headers(body === undefined ? {} : { "content-type": "application/json" }),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      // The caller's own abort is not the manager's fault; let it through as is.
      if (signal?.aborted) throw signal.reason ?? error;
      const e = error as Error & { cause?: { code?: string; message?: string } };
      throw new CsmsUnreachableError(base, e.name === "TimeoutError" ? `no answer within ${Math.round((ms ?? 0) / 1000)} s` : (e.cause?.code ?? e.cause?.message ?? e.message));
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let parsed: { error?: string; message?: string; fields?: CsmsField[] } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // Not the manager's JSON error shape (a proxy, a crash page): keep the status.
      }
      throw new CsmsApiError(res.status, parsed.error ?? `http_${res.status}`, parsed.message ?? (text.slice(0, 200) || `HTTP ${res.status}`), Array.isArray(parsed.fields) ? parsed.fields : []);
    }
    return res;
  };

  const json = async <T>(path: string, options?: RequestOptions): Promise<T> => {
    const res = await raw(path, options);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  };

  return {
    baseUrl: base,
    /** For the event stream: the same auth, no timeout (it is long-lived by design). */
    openEvents: (lastEventId: string | null, signal: AbortSignal) =>
      fetch(`${base}/api/v0/events`, {
        headers: headers({ accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) }),
        signal,
      }).catch((error: Error & { cause?: { code?: string } }) => {
        if (signal.aborted) throw error;
        throw new CsmsUnreachableError(base, error.cause?.code ?? error.message);
      }),

    snapshot: (signal?: AbortSignal) => json<StationsSnapshot>("/api/v0/stations/snapshot", { signal, timeoutMs: 60_000 }),
    listStations: (query: { q?: string; online?: boolean; protocol?: string; status?: string; limit?: number; cursor?: string | null } = {}) =>
      json<Page<StationView> & { total: number }>("/api/v0/stations", { query }),
    getStation: (id: string) => json<StationDetail>(`/api/v0/stations/${seg(id)}`),
    messages: (id: string, query: { limit?: number; cursor?: string | null } = {}) =>
      json<Page<MessageLogEntry>>(`/api/v0/stations/${seg(id)}/messages`, { query: { ...query, format: "json" } }),
    messagesCsv: async (id: string, query: { limit?: number } = {}) =>
      (await raw(`/api/v0/stations/${seg(id)}/messages`, { query: { ...query, format: "csv" }, timeoutMs: 60_000 })).text(),

    listTransactions: (query: { stationId?: string; active?: boolean; limit?: number; cursor?: string | null } = {}) =>
      json<Page<TransactionView> & { total: number }>("/api/v0/transactions", { query }),
    getTransaction: (id: string) => json<TransactionDetail>(`/api/v0/transactions/${seg(id)}`),

    listTokens: (query: { q?: string; limit?: number; cursor?: string | null } = {}) => json<Page<TokenView>>("/api/v0/tokens", { query }),
    createToken: (token: { idTag: string; status: TokenStatus; expiresAt?: string | null; note?: string | null }) =>
      json<TokenView>("/api/v0/tokens", { method: "POST", body: token }),
    updateToken: (idTag: string, patch: { status?: TokenStatus; expiresAt?: string | null; note?: string | null }) =>
      json<TokenView>(`/api/v0/tokens/${seg(idTag)}`, { method: "PATCH", body: patch }),
    deleteToken: (idTag: string) => json<unknown>(`/api/v0/tokens/${seg(idTag)}`, { method: "DELETE" }),

    /** Sends one command and waits for the station's answer (the manager waits up to its own timeout). */
    sendCommand: (stationId: string, command: { action: CommandAction; params: Record<string, unknown>; timeoutMs?: number }, signal?: AbortSignal) =>
      json<ManagerCommandResult>(`/api/v0/stations/${seg(stationId)}/commands`, { method: "POST", body: command, signal, timeoutMs: null }),
  };
};

export type CsmsClient = ReturnType<typeof createCsmsClient>;
