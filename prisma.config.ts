import path from "node:path";
import { defineConfig } from "prisma/config";
import { createMigrationAdapter } from "./lib/db/adapter";

// The JavaScript schema engine drives migrations through the same driver adapter the
// app uses, so no native engine is ever downloaded. DATABASE_URL unset → PGlite under
// .data/console; postgres://… → node-postgres.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations"), seed: "tsx prisma/seed.ts" },
  adapter: () => createMigrationAdapter(),
});
