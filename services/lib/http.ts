import { timingSafeEqual } from "node:crypto";
import type http from "node:http";
import type pino from "pino";
import type { z } from "zod";

/**
 * The services' HTTP toolkit on node:http: a small route table, a capped JSON body reader,
 * zod-checked inputs with field-level errors, and one JSON error shape
 * `{ error, message, fields? }` (the shape every upstream API of Switchyard answers with).
 */

export type FieldError = { path: string; message: string };

/** An error with an HTTP status; anything else a handler throws becomes a logged 503. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

/** The raw body, refused with 413 as soon as it passes `maxBytes` (nothing more is read). */
export const readRawBody = (req: http.IncomingMessage, maxBytes = DEFAULT_MAX_BODY_BYTES) =>
  new Promise<Buffer>((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new HttpError(413, "payload_too_large", `request body larger than ${maxBytes} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new HttpError(413, "payload_too_large", `request body larger than ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/** A JSON body (undefined when empty); 400 when it is not JSON, 413 when too large. */
export const readJsonBody = async (req: http.IncomingMessage, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<unknown> => {
  const text = (await readRawBody(req, maxBytes)).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the request body is not valid JSON");
  }
};

/** Parses `value` or throws 400 with one field error per zod issue, paths prefixed by `where`. */
export const parseInput = <T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> => {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new HttpError(
      400,
      "invalid_input",
      `invalid ${where}`,
      r.error.issues.map((i) => ({ path: [where, ...i.path].join("."), message: i.message })),
    );
  }
  return r.data;
};

/** Constant-time comparison of a presented secret with the expected one. */
export const sameSecret = (given: string | undefined, expected: string) => {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export const bearerToken = (req: http.IncomingMessage) => /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();

export type RouteContext = { req: http.IncomingMessage; res: http.ServerResponse; params: string[]; query: Record<string, string> };
export type RouteHandler = (ctx: RouteContext) => Promise<void>;

export type RouterOptions<A extends string> = {
  log: pino.Logger;
  /** Decides whether a request may use a route guarded by `auth`; false → 401. */
  authorize: (req: http.IncomingMessage, auth: A) => boolean;
  /** The 401 message for a guard (default: "missing or wrong bearer token"). */
  unauthorizedMessage?: (auth: A) => string;
};

/**
 * Routes `METHOD /path/:param` to handlers. Unknown paths → 404, known path with another
 * method → 405, a failing guard → 401, an HttpError → its status, anything else → 503
 * (logged; the client may retry).
 */
export const createRouter = <A extends string>({ log, authorize, unauthorizedMessage = () => "missing or wrong bearer token" }: RouterOptions<A>) => {
  type Route = { method: string; pattern: RegExp; auth: A; handler: RouteHandler };
  const routes: Route[] = [];

  const route = (method: string, path: string, auth: A, handler: RouteHandler) => {
    routes.push({ method, pattern: new RegExp(`^${path.replaceAll(/:[a-zA-Z]+/g, "([^/]+)")}$`), auth, handler });
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://service");
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    let matchedPath = false;
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      matchedPath = true;
      if (r.method !== method) continue;
      if (!authorize(req, r.auth)) {
        sendJson(res, 401, { error: "unauthorized", message: unauthorizedMessage(r.auth) });
        return;
      }
      let params: string[];
      try {
        params = m.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        sendJson(res, 400, { error: "invalid_input", message: "malformed path" });
        return;
      }
      const query = Object.fromEntries(url.searchParams.entries());
      r.handler({ req, res, params, query }).catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (error instanceof HttpError) {
          sendJson(res, error.status, { error: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) });
          return;
        }
        log.error({ err: (error as Error).message, path: url.pathname }, "request failed");
        sendJson(res, 503, { error: "unavailable", message: "the request could not be completed; try again" });
      });
      return;
    }
    sendJson(res, matchedPath ? 405 : 404, matchedPath ? { error: "method_not_allowed", message: `${req.method} not allowed here` } : { error: "not_found", message: "no such route" });
  };

  return { route, handle };
};
