import { credentialsPath } from "../lib/credentials";
import { seedDemo } from "../server/auth/seed-demo";
import { migrateConsoleDb, openConsoleDb } from "../scripts/lib/console-db";

// `tsx prisma/seed.ts` (also what `prisma db seed` runs). Migrates first so it works on a
// fresh data dir, then adds the demo users once.
const main = async () => {
  const dataDir = process.env.SWITCHYARD_DATA_DIR ?? ".data";
  const db = await openConsoleDb({ dataDir, databaseUrl: process.env.DATABASE_URL });
  try {
    await migrateConsoleDb({ db, log: (line) => console.log(line) });
    const { created, logins } = await seedDemo(db.prisma(), { dataDir });
    console.log(created ? "created demo users:" : "users already exist; nothing seeded. Stored demo logins:");
    for (const l of logins) console.log(`  ${l.role.padEnd(9)} ${l.email.padEnd(30)} ${l.password}${l.participantId ? `  (${l.participantId})` : ""}`);
    console.log(`credentials: ${credentialsPath(dataDir)}`);
  } finally {
    await db.close();
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`seed failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
