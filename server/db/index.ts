import "server-only";
import { PrismaClient } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";
import { PGlite } from "@electric-sql/pglite";
import fs from "node:fs";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { env } from "../env";
import { resolveDatabaseTarget } from "../../lib/db/adapter";

export type Db = PrismaClient;

const createDb = (): Db => {
  const e = env();
  const target = resolveDatabaseTarget({ databaseUrl: e.DATABASE_URL, dataDir: e.SWITCHYARD_DATA_DIR, processName: "console" });
  if (target.kind === "postgres") return new PrismaClient({ adapter: new PrismaPg({ connectionString: target.url }) });
  if (target.dataDir) fs.mkdirSync(target.dataDir, { recursive: true });
  return new PrismaClient({ adapter: new PrismaPGlite(new PGlite(target.dataDir)) });
};

// One client per process, kept on globalThis so hot reload and Next's separate server
// entries (route handlers, instrumentation) share it; a PGlite directory allows one owner.
const g = globalThis as unknown as { __switchyardDb?: Db };
export const db = (): Db => (g.__switchyardDb ??= createDb());
/** Tests inject their own database here. */
export const setDb = (client: Db | undefined) => {
  g.__switchyardDb = client;
};
