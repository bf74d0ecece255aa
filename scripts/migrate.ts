import { migrateConsoleDb } from "./lib/console-db";

// `npm run db:migrate`. Prisma's own `migrate deploy` never exits over PGlite, so the
// console's migrations are applied by server/db/migrate.ts instead (same bookkeeping table).
const main = async () => {
  const { applied, total } = await migrateConsoleDb({
    dataDir: process.env.SWITCHYARD_DATA_DIR || ".data",
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(line),
  });
  console.log(applied.length ? `applied ${applied.length} of ${total} migrations` : `database is up to date (${total} migrations)`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`migration failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
