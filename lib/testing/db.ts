import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { applyMigrations } from "../db/migrate";
import { createScratchDatabase } from "./pg";

/** The machine's PostgreSQL for `npm run test:services`; in-memory PGlite otherwise. */
export const usingServices = () => process.env.SWITCHYARD_TEST_SERVICES === "1";

export type TestDb = { db: PrismaClient; close: () => Promise<void>; kind: "pglite" | "postgres"; url?: string };

/** A fresh, fully migrated database of its own for one test file. */
export const createTestDb = async (): Promise<TestDb> => {
  if (!usingServices()) {
    const pglite = new PGlite();
    await applyMigrations(pglite);
    const db = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    return { db, kind: "pglite", close: async () => { await db.$disconnect(); await pglite.close(); } };
  }
  const scratch = await createScratchDatabase();
  const url = new URL(scratch.url);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await applyMigrations({ exec: (sql) => client.query(sql), query: (sql, params) => client.query(sql, params) as never });
  await client.end();
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: url.toString() }) });
  return {
    db,
    kind: "postgres",
    url: url.toString(),
    close: async () => {
      await db.$disconnect();
      await scratch.drop();
    },
  };
};
