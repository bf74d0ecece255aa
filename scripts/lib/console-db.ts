import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { openPGlite, resolveDatabaseTarget, type DatabaseTarget } from "../../server/db/adapter";
import { applyMigrations, type SqlRunner } from "../../server/db/migrate";

export type ConsoleDbOptions = {
  /** Defaults to SWITCHYARD_DATA_DIR, then .data. */
  dataDir?: string;
  /** Defaults to DATABASE_URL; unset → PGlite under <dataDir>/console. */
  databaseUrl?: string;
};

/** One short-lived handle on the console database, for scripts that run before the console does. */
export type ConsoleDb = {
  target: DatabaseTarget;
  sql: SqlRunner;
  /** Created on first use, so a migration-only run opens no Prisma pool. */
  prisma: () => PrismaClient;
  /** Must be called: a PGlite data dir belongs to one process at a time, and the console opens it next. */
  close: () => Promise<void>;
};

/** Where the database is, for humans: no password ever printed. */
export const describeTarget = (target: DatabaseTarget) => {
  if (target.kind === "pglite") return target.dataDir ? `PGlite at ${target.dataDir}` : "in-memory PGlite";
  const url = new URL(target.url);
  if (url.password) url.password = "***";
  return `PostgreSQL at ${url.toString()}`;
};

export const openConsoleDb = async ({ dataDir, databaseUrl }: ConsoleDbOptions = {}): Promise<ConsoleDb> => {
  const target = resolveDatabaseTarget({ dataDir, databaseUrl, processName: "console" });
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
  return {
    target,
    sql: {
      exec: (text) => client.query(text),
      query: async <T>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params)).rows as T[] }),
    },
    prisma: () => (prisma ??= new PrismaClient({ adapter: new PrismaPg({ connectionString: target.url }) })),
    close: async () => {
      await prisma?.$disconnect();
      await client.end();
    },
  };
};

/**
 * Brings the console schema up to date. Opens and closes its own handle unless given one
 * (the launcher passes one so migrating and seeding share a single PGlite open).
 */
export const migrateConsoleDb = async ({
  log = () => {},
  db,
  ...options
}: ConsoleDbOptions & { log?: (line: string) => void; db?: ConsoleDb } = {}) => {
  const handle = db ?? (await openConsoleDb(options));
  try {
    log(`migrating ${describeTarget(handle.target)}`);
    const result = await applyMigrations(handle.sql, { log });
    return { ...result, target: handle.target };
  } finally {
    if (!db) await handle.close();
  }
};
