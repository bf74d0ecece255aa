import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { applyMigrations } from "../db/migrate";

/** The machine's PostgreSQL for `npm run test:services`; in-memory PGlite otherwise. */
export const usingServices = () => process.env.SWITCHYARD_TEST_SERVICES === "1";
const PG_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type TestDb = { db: PrismaClient; close: () => Promise<void>; kind: "pglite" | "postgres"; url?: string };

/** A fresh, fully migrated database of its own for one test file. */
export const createTestDb = async (): Promise<TestDb> => {
  if (!usingServices()) {
    const pglite = new PGlite();
    await applyMigrations(pglite);
    const db = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    return { db, kind: "pglite", close: async () => { await db.$disconnect(); await pglite.close(); } };
  }
  const name = `switchyard_test_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
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
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
};
