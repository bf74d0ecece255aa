import { describeTarget, migrateDatabase, openDatabase, type Database } from "../../lib/db/open";

export { describeTarget };
export type ConsoleDb = Database;
export type ConsoleDbOptions = { dataDir?: string; databaseUrl?: string };

/** One short-lived handle on the console database, for scripts that run before the console does. */
export const openConsoleDb = (options: ConsoleDbOptions = {}) => openDatabase({ ...options, processName: "console" });

/**
 * Brings the console schema up to date. Opens and closes its own handle unless given one
 * (the launcher passes one so migrating and seeding share a single PGlite open).
 */
export const migrateConsoleDb = async ({ log = () => {}, db, ...options }: ConsoleDbOptions & { log?: (line: string) => void; db?: ConsoleDb } = {}) => {
  const handle = db ?? (await openConsoleDb(options));
  try {
    const result = await migrateDatabase(handle, { log });
    return { ...result, target: handle.target };
  } finally {
    if (!db) await handle.close();
  }
};
