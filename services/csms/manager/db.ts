import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { openPGlite, resolveDatabaseTarget, type DatabaseTarget } from "../../../server/db/adapter";
import { applyMigrations } from "../../../server/db/migrate";

/**
 * The CSMS manager's database: PGlite in `<SWITCHYARD_DATA_DIR>/csms` by default, or the
 * PostgreSQL of DATABASE_URL (shared by every manager replica). Migrated at start.
 */
export const openManagerDb = async ({
  databaseUrl = process.env.DATABASE_URL,
  dataDir = process.env.SWITCHYARD_DATA_DIR ?? ".data",
  log = (_: string) => {},
}: { databaseUrl?: string; dataDir?: string; log?: (line: string) => void } = {}): Promise<{ db: PrismaClient; target: DatabaseTarget; close: () => Promise<void> }> => {
  const target = resolveDatabaseTarget({ databaseUrl, dataDir, processName: "csms" });
  if (target.kind === "pglite") {
    const pglite = await openPGlite(target.dataDir);
    await applyMigrations(pglite, { log });
    const db = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    return {
      db,
      target,
      close: async () => {
        await db.$disconnect();
        if (!pglite.closed) await pglite.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    // Several managers may start at once; an advisory lock serialises their migrations.
    await client.query("SELECT pg_advisory_lock(74617001)");
    await applyMigrations({ exec: (sql) => client.query(sql), query: async (sql, params) => ({ rows: (await client.query(sql, params)).rows }) }, { log });
  } finally {
    await client.query("SELECT pg_advisory_unlock(74617001)").catch(() => {});
    await client.end();
  }
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: target.url }) });
  return { db, target, close: () => db.$disconnect() };
};

/** A unique-constraint violation, whichever way the driver adapter reports it. */
export const isUniqueViolation = (error: unknown) => {
  const e = error as { code?: unknown; message?: unknown; cause?: { originalCode?: unknown; kind?: unknown } };
  return (
    e?.code === "P2002" ||
    e?.cause?.originalCode === "23505" ||
    e?.cause?.kind === "UniqueConstraintViolation" ||
    (typeof e?.message === "string" && e.message.includes("violates unique constraint"))
  );
};
