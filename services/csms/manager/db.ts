import type { PrismaClient } from "@prisma/client";
import type { DatabaseTarget } from "../../../lib/db/adapter";
import { migrateDatabase, openDatabase } from "../../../lib/db/open";

/**
 * The CSMS manager's database: PGlite in `<SWITCHYARD_DATA_DIR>/csms` by default, or the
 * PostgreSQL of DATABASE_URL (shared by every manager replica). Migrated at start.
 */
export const openManagerDb = async ({
  databaseUrl = process.env.DATABASE_URL,
  dataDir = process.env.SWITCHYARD_DATA_DIR ?? ".data",
  log = (_: string) => {},
}: { databaseUrl?: string; dataDir?: string; log?: (line: string) => void } = {}): Promise<{ db: PrismaClient; target: DatabaseTarget; close: () => Promise<void> }> => {
  const database = await openDatabase({ processName: "csms", databaseUrl, dataDir });
  try {
    await migrateDatabase(database, { log });
  } catch (error) {
    await database.close();
    throw error;
  }
  return { db: database.prisma(), target: database.target, close: database.close };
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
