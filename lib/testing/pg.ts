import { randomBytes } from "node:crypto";
import pg from "pg";

/** The machine's PostgreSQL that tests and benchmarks create their scratch databases in. */
export const PG_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const run = async (adminUrl: string, sql: string) => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

/**
 * A new, empty database of its own on the server of `adminUrl` (random name with `prefix`),
 * for one test file or benchmark phase; `drop` removes it, closing whatever still holds it.
 */
export const createScratchDatabase = async ({ prefix = "switchyard_test", adminUrl = PG_ADMIN_URL }: { prefix?: string; adminUrl?: string } = {}) => {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await run(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => run(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
};
