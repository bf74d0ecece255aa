import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";

export type DatabaseTarget =
  | { kind: "postgres"; url: string }
  | { kind: "pglite"; dataDir: string | undefined };

/** DATABASE_URL unset → PGlite in `<data dir>/<process>`; postgres://… → node-postgres. */
export const resolveDatabaseTarget = ({
  databaseUrl = process.env.DATABASE_URL,
  dataDir = process.env.SWITCHYARD_DATA_DIR ?? ".data",
  processName = "console",
}: { databaseUrl?: string; dataDir?: string; processName?: string } = {}): DatabaseTarget => {
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) return { kind: "postgres", url: databaseUrl };
  if (databaseUrl === "memory://") return { kind: "pglite", dataDir: undefined };
  return { kind: "pglite", dataDir: path.resolve(dataDir, processName) };
};

export const openPGlite = async (dataDir: string | undefined) => {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  await client.waitReady;
  return client;
};

export const createAdapterFactory = async (target: DatabaseTarget) => {
  if (target.kind === "postgres") return { factory: new PrismaPg({ connectionString: target.url }), close: async () => {} };
  const client = await openPGlite(target.dataDir);
  return { factory: new PrismaPGlite(client), close: () => client.close(), pglite: client };
};

/** Used by prisma.config.ts: the Prisma CLI (migrate deploy/dev) runs over the same adapter. */
export const createMigrationAdapter = async () => (await createAdapterFactory(resolveDatabaseTarget())).factory;
