import "server-only";
import client from "prom-client";

// One registry per process, on globalThis so Next's separate server entries share it.
const g = globalThis as unknown as { __switchyardMetrics?: ReturnType<typeof create> };

const create = () => {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service: process.env.SWITCHYARD_SERVICE ?? "console" });
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    trpcCalls: new client.Histogram({
      name: "switchyard_trpc_call_seconds",
      help: "tRPC procedure duration",
      labelNames: ["path", "type", "ok"] as const,
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    liveSubscribers: new client.Gauge({
      name: "switchyard_live_subscribers",
      help: "Open live subscriptions per feed",
      labelNames: ["feed"] as const,
      registers: [registry],
    }),
    upstreamUp: new client.Gauge({
      name: "switchyard_upstream_connected",
      help: "1 when the upstream link is connected",
      labelNames: ["upstream"] as const,
      registers: [registry],
    }),
    contractViolations: new client.Counter({
      name: "upstream_contract_violations_total",
      help: "Upstream responses and feed events that broke their contract (dropped, never applied)",
      labelNames: ["upstream", "what"] as const,
      registers: [registry],
    }),
  };
};

const metrics = () => (g.__switchyardMetrics ??= create());
export const metricsRegistry = () => metrics().registry;
export const trpcCalls = { observe: (labels: { path: string; type: string; ok: string }, seconds: number) => metrics().trpcCalls.observe(labels, seconds) };
export const liveSubscribers = () => metrics().liveSubscribers;
export const upstreamUp = () => metrics().upstreamUp;
export const contractViolations = () => metrics().contractViolations;
