import { metricsRegistry } from "@/server/metrics";

export const dynamic = "force-dynamic";

/** Prometheus scrape endpoint. */
export const GET = async () =>
  new Response(await metricsRegistry().metrics(), { headers: { "content-type": metricsRegistry().contentType, "cache-control": "no-store" } });
