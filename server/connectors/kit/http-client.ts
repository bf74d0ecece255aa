import "server-only";
import { z } from "zod";
import { checkContract, contractViolation } from "./contract";
import { UpstreamHttpError, UpstreamUnreachableError, type UpstreamName } from "./upstream-errors";

export type Query = Record<string, string | number | boolean | null | undefined>;

export type CallOptions<S extends z.ZodType | undefined> = {
  /** Values for the `:name` segments of the path (URI-encoded here, so callers never build URLs). */
  params?: Record<string, string | number>;
  query?: Query;
  body?: unknown;
  /** The contract of the answer. Without one the body is drained and ignored (a 204, a DELETE). */
  schema?: S;
  signal?: AbortSignal;
  /** Per call; `null` waits as long as the upstream takes (a command the device must answer). */
  timeoutMs?: number | null;
  /** Extra request headers for this call (who is asking, on upstreams that scope answers per user). */
  headers?: Record<string, string>;
};

type Answer<S> = S extends z.ZodType ? z.output<S> : void;
type WithSchema<S extends z.ZodType> = Omit<CallOptions<S>, "schema"> & { schema: S };

export type UpstreamClientOptions = {
  /** Short id: the metrics label and the log field (`csms`). */
  upstream: string;
  /** What people call it in messages (`CSMS manager`); defaults to `upstream`. */
  label?: string;
  baseUrl: string;
  /** Bearer token sent on every call. */
  token?: string;
  /** Default per-call timeout. */
  timeoutMs?: number;
  /** The setting to check when the upstream refuses the token (`CSMS_API_TOKEN`). */
  credentialsHint?: string;
  /** Headers sent on every call and on the event stream (per-call `headers` override them). */
  headers?: Record<string, string>;
  /**
   * For an upstream whose error bodies are not `{ error, message, fields }` (RMF's FastAPI
   * `{ detail }`): reads an error answer's JSON into the same parts; undefined falls back to the status.
   */
  parseError?: (status: number, body: unknown) => { error?: string; message: string; fields?: { path: string; message: string }[] } | undefined;
};

/** The `{ error, message, fields }` shape every upstream of ours answers errors with. */
const ZErrorBody = z.object({
  error: z.string().max(200),
  message: z.string().max(2000),
  fields: z.array(z.object({ path: z.string(), message: z.string() })).max(100).optional(),
});

const queryString = (query: Query = {}) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  const s = params.toString();
  return s ? `?${s}` : "";
};

const fillPath = (template: string, params: Record<string, string | number> = {}) =>
  template.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, key: string) => {
    if (!(key in params)) throw new Error(`no value for :${key} in ${template}`);
    return encodeURIComponent(String(params[key]));
  });

/** Node's fetch hides the socket error in `cause`; this is the part a person can act on. */
const reasonOf = (error: unknown, timeoutMs: number | null) => {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${(timeoutMs ?? 0) < 1000 ? `${timeoutMs} ms` : `${Math.round((timeoutMs ?? 0) / 1000)} s`}`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
};

/**
 * A typed HTTP client for one upstream's API. Every answer is checked against the zod
 * schema the call names (from contracts/<upstream>/), so nothing the console keeps or shows
 * was cast into shape. Failures are typed: UpstreamHttpError (the upstream said no),
 * UpstreamUnreachableError (nobody answered), UpstreamContractError (the answer broke the
 * contract; counted and logged). `fromUpstream` (server/errors.ts) turns them into words.
 */
export const createUpstreamClient = ({ upstream, label = upstream, baseUrl, token, timeoutMs = 10_000, credentialsHint, headers: defaultHeaders = {}, parseError }: UpstreamClientOptions) => {
  const base = baseUrl.replace(/\/+$/, "");
  const name: UpstreamName = { upstream, label, url: base };
  const headers = (extra: Record<string, string> = {}) => ({ ...defaultHeaders, ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });

  const send = async (method: string, path: string, { params, query, body, signal, timeoutMs: ms = timeoutMs, headers: callHeaders = {} }: CallOptions<z.ZodType | undefined>, extra: Record<string, string> = {}) => {
    const signals = [signal, ms ? AbortSignal.timeout(ms) : undefined].filter((s): s is AbortSignal => Boolean(s));
    let res: Response;
    try {
      res = await fetch(`${base}${fillPath(path, params)}${queryString(query)}`, {
        method,
        headers: headers({ ...callHeaders, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...extra }),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      // The caller's own abort is not the upstream's fault; let it through as is.
      if (signal?.aborted) throw signal.reason ?? error;
      throw new UpstreamUnreachableError({ ...name, reason: reasonOf(error, ms) });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let parsed: { error?: string; message: string; fields?: { path: string; message: string }[] } | undefined;
      try {
        const json: unknown = JSON.parse(text);
        parsed = parseError ? parseError(res.status, json) : ZErrorBody.safeParse(json).data;
      } catch {
        // Not our JSON error shape (a proxy, a crash page): the status says enough.
      }
      throw new UpstreamHttpError({
        ...name,
        status: res.status,
        code: parsed?.error ?? `http_${res.status}`,
        message: parsed?.message ?? (text.slice(0, 200) || `HTTP ${res.status}`),
        fields: parsed?.fields ?? [],
        credentialsHint,
      });
    }
    return res;
  };

  const call = async <S extends z.ZodType | undefined>(method: string, path: string, options: CallOptions<S>): Promise<Answer<S>> => {
    const res = await send(method, path, options);
    const { schema } = options;
    const what = `${method} ${path}`;
    if (!schema) {
      await res.body?.cancel();
      return undefined as Answer<S>;
    }
    let data: unknown;
    if (res.status !== 204) {
      const text = await res.text();
      try {
        data = JSON.parse(text);
      } catch {
        throw contractViolation({ ...name, what, issues: [`not JSON: ${text.slice(0, 80)}`] });
      }
    }
    return checkContract(schema, data, { ...name, what }) as Answer<S>;
  };

  return {
    ...name,
    get: <S extends z.ZodType>(path: string, options: WithSchema<S>) => call("GET", path, options),
    post: <S extends z.ZodType>(path: string, options: WithSchema<S>) => call("POST", path, options),
    patch: <S extends z.ZodType>(path: string, options: WithSchema<S>) => call("PATCH", path, options),
    put: <S extends z.ZodType>(path: string, options: WithSchema<S>) => call("PUT", path, options),
    delete: <S extends z.ZodType | undefined = undefined>(path: string, options: CallOptions<S> = {}) => call("DELETE", path, options),
    /** A long-lived Server-Sent Events stream (no timeout: the idle timer of the reader decides). */
    events: async (path: string, { lastEventId, signal }: { lastEventId: string | null; signal: AbortSignal }) => {
      const res = await send("GET", path, { signal, timeoutMs: null }, { accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) });
      if (!res.body) throw new UpstreamUnreachableError({ ...name, reason: "the event stream has no body" });
      return res.body;
    },
  };
};

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
