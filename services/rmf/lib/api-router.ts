import type http from "node:http";
import type pino from "pino";
import type { z } from "zod";
import { hasPermission, type RmfPermission, type RmfUser } from "../../../contracts/rmf";
import { bearerToken, HttpError, readJsonBody, sendJson } from "../../lib/http";
import type { Verifier } from "./jwt";

/**
 * rmf-web's REST conventions on node:http: FastAPI error bodies (`{detail: "<text>"}`, and
 * 422 `{detail: [{type, loc, msg, input}]}` for malformed input), Bearer JWTs checked on every
 * route but the public ones, and Switchyard's permissions enforced per route.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
  }
}

export const notFound = () => new ApiError(404, "Not Found");

/** The FastAPI 422 body for zod issues; `where` is the first `loc` element (body, query). */
export const validationDetail = (error: z.ZodError, where: "body" | "query", input: unknown) =>
  error.issues.map((issue) => {
    let value: unknown = input;
    for (const key of issue.path) value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
    const missing = value === undefined;
    return { type: missing ? "missing" : issue.code, loc: [where, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))], msg: missing ? "Field required" : issue.message, input: missing ? null : value };
  });

export const parseOr422 = <T extends z.ZodType>(schema: T, input: unknown, where: "body" | "query" = "body"): z.infer<T> => {
  const r = schema.safeParse(input);
  if (!r.success) throw new ApiError(422, validationDetail(r.error, where, input));
  return r.data;
};

/** `public`: no token; `token`: any valid token; otherwise the permission needed. */
export type Access = "public" | "token" | RmfPermission;

export type ApiContext = {
  req: http.IncomingMessage;
  params: string[];
  query: URLSearchParams;
  user: RmfUser | null;
  /** The JSON body (422 when it is not JSON). */
  body: () => Promise<unknown>;
};
/** Returns the body to send with 200, or `{status, body}` for another status. */
export type ApiHandler = (ctx: ApiContext) => Promise<unknown>;
export const withStatus = (status: number, body: unknown) => ({ [STATUS]: status, body });
const STATUS = Symbol("status");

export const createApiRouter = ({ verify, log, maxBodyBytes = 256 * 1024 }: { verify: Verifier; log: pino.Logger; maxBodyBytes?: number }) => {
  type Route = { method: string; pattern: RegExp; access: Access; handler: ApiHandler };
  const routes: Route[] = [];
  const route = (method: string, path: string, access: Access, handler: ApiHandler) => {
    routes.push({ method, pattern: new RegExp(`^${path.replaceAll(/:[a-zA-Z_]+/g, "([^/]+)")}$`), access, handler });
  };

  const send = (res: http.ServerResponse, status: number, body: unknown) => sendJson(res, status, body === undefined ? null : body);

  const run = async (req: http.IncomingMessage, res: http.ServerResponse, r: Route, m: RegExpExecArray, url: URL) => {
    let user: RmfUser | null = null;
    if (r.access !== "public") {
      const token = bearerToken(req);
      user = token ? await verify(token) : null;
      if (!user) return send(res, 401, { detail: token ? "Invalid token" : "Not authenticated" });
      if (r.access !== "token" && !hasPermission(user, r.access)) return send(res, 403, { detail: "Forbidden" });
    }
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return send(res, 404, { detail: "Not Found" });
    }
    const body = async () => {
      try {
        return await readJsonBody(req, maxBodyBytes);
      } catch (error) {
        if (error instanceof HttpError && error.status === 413) throw new ApiError(413, "Request body too large");
        throw new ApiError(422, [{ type: "json_invalid", loc: ["body"], msg: "JSON decode error", input: null }]);
      }
    };
    const out = (await r.handler({ req, params, query: url.searchParams, user, body })) as { [STATUS]?: number; body?: unknown } | undefined;
    if (out && typeof out === "object" && STATUS in out) return send(res, out[STATUS]!, out.body);
    send(res, 200, out);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://rmf");
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    let pathMatched = false;
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      run(req, res, r, m, url).catch((error: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (error instanceof ApiError) return send(res, error.status, { detail: error.detail });
        log.error({ err: (error as Error).message, path: url.pathname }, "request failed");
        send(res, 500, { detail: "Internal Server Error" });
      });
      return;
    }
    send(res, pathMatched ? 405 : 404, { detail: pathMatched ? "Method Not Allowed" : "Not Found" });
  };
  return { route, handle };
};
