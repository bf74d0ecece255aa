import { describeTarget, migrateDatabase, openDatabase, type Database } from "../../../lib/db/open";
import type { SqlRunner } from "../../../lib/db/migrate";

/**
 * A region's store: a database of its own (PGlite in `<data dir>/monitoring-<region>`, or the
 * region's PostgreSQL URL), so no query can ever cross regions. PostgreSQL gets a second
 * connection for reads, so chart queries never queue behind a batch insert, and `inserts`
 * connections of its own for landing-zone batches (several in flight, see sample-writer.ts);
 * PGlite has one connection for everything. One process writes a store at a time (a session
 * advisory lock): the landing-zone sequence numbers are handed out by that process.
 */
export type RegionStore = {
  region: string;
  /** Where it is, for logs (never a password). */
  where: string;
  write: SqlRunner;
  read: SqlRunner;
  /** Connections for landing-zone inserts (PostgreSQL: `insertConnections` of their own; PGlite: `write`). */
  inserts: SqlRunner[];
  close: () => Promise<void>;
};

const WRITER_LOCK = 74617010;

export const openRegionStore = async ({
  region,
  databaseUrl,
  dataDir,
  writer: isWriter = true,
  log = () => {},
  insertConnections = 3,
}: {
  region: string;
  /** postgres://… or memory://; unset → PGlite under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** The consumer side writes (and takes the lock); an ingest-only process only reads keys. */
  writer?: boolean;
  log?: (line: string) => void;
  /** PostgreSQL only: connections that insert landing-zone batches concurrently. */
  insertConnections?: number;
}): Promise<RegionStore> => {
  const processName = `monitoring-${region}`;
  const writer = await openDatabase({ processName, dataDir, databaseUrl: databaseUrl ?? "" });
  const opened: Database[] = [writer];
  const close = async () => {
    for (const db of opened.reverse()) await db.close().catch(() => {});
  };
  try {
    await migrateDatabase(writer, { log });
    if (writer.target.kind === "postgres" && isWriter) {
      const { rows } = await writer.sql.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [WRITER_LOCK]);
      if (!rows[0]?.ok) throw new Error(`another monitoring process already writes the ${region} store (${describeTarget(writer.target)})`);
      opened.push(await openDatabase({ processName, dataDir, databaseUrl }));
      for (let i = 0; i < insertConnections; i++) opened.push(await openDatabase({ processName, dataDir, databaseUrl }));
    }
    const inserts = opened.length > 2 ? opened.slice(2).map((db) => db.sql) : [writer.sql];
    return { region, where: describeTarget(writer.target), write: writer.sql, read: (opened[1] ?? writer).sql, inserts, close };
  } catch (error) {
    await close();
    throw error;
  }
};
