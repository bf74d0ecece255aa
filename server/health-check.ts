import "server-only";
import { upstreamHealth } from "./connectors/health";
import type { Db } from "./db";

/** Readiness: the database must answer; upstream links are reported (degraded, not down). */
export const checkReadiness = async (db: Db) => {
  const started = performance.now();
  let database: { ok: boolean; latencyMs: number; error?: string };
  try {
    await db.$queryRaw`SELECT 1`;
    database = { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    database = { ok: false, latencyMs: Math.round(performance.now() - started), error: (error as Error).message };
  }
  const upstreams = upstreamHealth()
    .list()
    .map(({ id, state, lastMessageAt, detail }) => ({ id, state, lastMessageAgeMs: lastMessageAt ? Date.now() - lastMessageAt : null, detail }));
  const status = !database.ok ? "down" : upstreams.every((u) => u.state === "connected") ? "ok" : "degraded";
  return { status, database, upstreams } as const;
};
