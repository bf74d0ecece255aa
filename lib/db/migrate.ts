import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** Anything that can run SQL: a PGlite instance or a pg Client. */
export type SqlRunner = {
  exec: (sql: string) => Promise<unknown>;
  query: <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<{ rows: T[] }>;
};

const MIGRATIONS_DIR = path.resolve(process.cwd(), "prisma", "migrations");

/**
 * Applies prisma/migrations/* in order and records them in Prisma's own
 * `_prisma_migrations` table (same columns, same checksums), so `prisma migrate status`
 * agrees. We apply them ourselves because the Prisma 6 CLI's JS schema engine cannot read
 * Postgres' `name` columns through @prisma/adapter-pg and never exits over PGlite.
 */
export const applyMigrations = async (db: SqlRunner, { dir = MIGRATIONS_DIR, log = (_: string) => {} } = {}) => {
  await db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`);
  const { rows } = await db.query<{ migration_name: string; checksum: string }>(
    `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
  const done: string[] = [];
  for (const name of names) {
    const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    const previous = applied.get(name);
    if (previous) {
      if (previous !== checksum) throw new Error(`migration ${name} was edited after it was applied (checksum differs)`);
      continue;
    }
    const id = randomUUID();
    await db.exec("BEGIN");
    try {
      await db.exec(sql);
      await db.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count) VALUES ($1, $2, $3, now(), 1)`,
        [id, checksum, name],
      );
      await db.exec("COMMIT");
    } catch (error) {
      await db.exec("ROLLBACK");
      throw new Error(`migration ${name} failed: ${(error as Error).message}`);
    }
    log(`applied ${name}`);
    done.push(name);
  }
  return { applied: done, total: names.length };
};
