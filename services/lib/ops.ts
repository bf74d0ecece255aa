import http from "node:http";
import { collectDefaultMetrics, Registry } from "prom-client";
import { listen, closeServer, urlHost } from "../../lib/net";
import { bearerToken, sameSecret, sendJson } from "./http";

/**
 * Every service's operations endpoints: `GET /health` (200 while `check` says ok, else 503,
 * with its details) and `GET /metrics` (Prometheus text; behind a bearer token when one is
 * configured). Mounted on the service's own HTTP server, or served on a port of its own.
 */
export type HealthReport = { ok: boolean } & Record<string, unknown>;

export type OpsOptions = {
  registry: Registry;
  check: () => Promise<HealthReport> | HealthReport;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
};

/** A registry of its own per service instance (tests start several in one process). */
export const createRegistry = ({ defaults = true }: { defaults?: boolean } = {}) => {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  return registry;
};

/** Answers /health and /metrics; returns false for any other path so the caller can go on. */
export const createOpsHandler = ({ registry, check, metricsToken }: OpsOptions) => (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
  const pathname = new URL(req.url ?? "/", "http://service").pathname;
  if (pathname !== "/health" && pathname !== "/metrics") return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { error: "method_not_allowed", message: `${req.method} not allowed here` });
    return true;
  }
  if (pathname === "/health") {
    Promise.resolve()
      .then(check)
      .then(
        (report) => sendJson(res, report.ok ? 200 : 503, { status: report.ok ? "ok" : "unavailable", ...report }),
        (error: unknown) => sendJson(res, 503, { status: "unavailable", ok: false, error: (error as Error).message }),
      );
    return true;
  }
  if (metricsToken && !sameSecret(bearerToken(req), metricsToken)) {
    sendJson(res, 401, { error: "unauthorized", message: "missing or wrong bearer token" });
    return true;
  }
  registry.metrics().then(
    (text) => {
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(text);
    },
    (error: unknown) => sendJson(res, 500, { error: "metrics_failed", message: (error as Error).message }),
  );
  return true;
};

/** The ops endpoints on a port of their own (for services whose main port speaks another protocol). */
export const startOpsServer = async ({ host = "127.0.0.1", port, ...options }: OpsOptions & { host?: string; port: number }) => {
  const handle = createOpsHandler(options);
  const server = http.createServer((req, res) => {
    if (!handle(req, res)) sendJson(res, 404, { error: "not_found", message: "no such route" });
  });
  const actual = await listen(server, port, host);
  return {
    url: `http://${urlHost(host)}:${actual}`,
    close: async () => {
      server.closeAllConnections();
      await closeServer(server);
    },
  };
};
