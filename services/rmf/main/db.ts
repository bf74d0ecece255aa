import { migrateDatabase, openDatabase } from "../../../lib/db/open";

/** Main's database (PGlite in `<data dir>/rmf`, or DATABASE_URL), migrated before use. */
export const openRmfDb = async ({ databaseUrl, dataDir, log }: { databaseUrl?: string; dataDir?: string; log: (line: string) => void }) => {
  const database = await openDatabase({ processName: "rmf", databaseUrl, dataDir });
  await migrateDatabase(database, { log }).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  return { db: database.prisma(), target: database.target, close: database.close };
};
