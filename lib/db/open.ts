import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { openPGlite, resolveDatabaseTarget, type DatabaseTarget } from "./adapter";
import { applyMigrations, type SqlRunner } from "./migrate";

export type DatabaseOptions = {
  /** Names the PGlite directory `<dataDir>/<processName>` (console, csms, rmf, …). */
  processName: string;
  /** Defaults to SWITCHYARD_DATA_DIR, then .data. */
  dataDir?: string;
  /** Defaults to DATABASE_URL; unset → PGlite under <dataDir>/<processName>. */
  databaseUrl?: string;
};

/** One process's handle on its database: raw SQL for migrations, Prisma for everything else. */
export type Database = {
  target: DatabaseTarget;
  sql: SqlRunner;
  /** Created on first use, so a migration-only run opens no Prisma pool. */
  prisma: () => PrismaClient;
  /** Must be called: a PGlite data dir belongs to one process at a time. */
  close: () => Promise<void>;
};

/** Where the database is, for humans: no password ever printed. */
export const describeTarget = (target: DatabaseTarget) => {
  if (target.kind === "pglite") return target.dataDir ? `PGlite at ${target.dataDir}` : "in-memory PGlite";
  const url = new URL(target.url);
  if (url.password) url.password = "***";
  return `PostgreSQL at ${url.toString()}`;
};

export const openDatabase = async ({ processName, dataDir, databaseUrl }: DatabaseOptions): Promise<Database> => {
  const target = resolveDatabaseTarget({ dataDir, databaseUrl, processName });
  let prisma: PrismaClient | undefined;

  if (target.kind === "pglite") {
    const pglite = await openPGlite(target.dataDir);
    return {
      target,
      sql: pglite,
      prisma: () => (prisma ??= new PrismaClient({ adapter: new PrismaPGlite(pglite) })),
      close: async () => {
        await prisma?.$disconnect();
        if (!pglite.closed) await pglite.close();
      },
    };
  }

  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  // One connection (session-level advisory locks need the same one), one query at a time:
  // callers such as a service's read API may ask concurrently, and pg's own queue for a
  // client already busy is deprecated (a warning on every process, removed in pg 9).
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = tail.then(run, run);
    tail = next.catch(() => {});
    return next;
  };
  return {
    target,
    sql: {
      exec: (text) => serial(() => client.query(text)),
      query: async <T>(text: string, params?: unknown[]) => ({ rows: (await serial(() => client.query(text, params))).rows as T[] }),
    },
    prisma: () => (prisma ??= new PrismaClient({ adapter: new PrismaPg({ connectionString: target.url }) })),
    close: async () => {
      await prisma?.$disconnect();
      await client.end();
    },
  };
};

// Any number of processes (console replicas, managers, …) may start at once against one
// PostgreSQL; a session-level advisory lock serialises their migrations.
const MIGRATION_LOCK = 74617001;

/** Brings the schema up to date (every process runs the one migration history). */
export const migrateDatabase = async (database: Database, { log = (_: string) => {} }: { log?: (line: string) => void } = {}) => {
  log(`migrating ${describeTarget(database.target)}`);
  if (database.target.kind === "pglite") return applyMigrations(database.sql, { log });
  await database.sql.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    return await applyMigrations(database.sql, { log });
  } finally {
    await database.sql.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
  }
};
