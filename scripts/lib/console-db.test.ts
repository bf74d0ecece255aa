import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { verifyPassword } from "better-auth/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureSecrets, seedDemo } from "../../server/auth/seed-demo";
import { credentialsPath, readCredentials } from "../../lib/credentials";
import { createScratchDatabase } from "../../lib/testing/pg";
import { migrateConsoleDb, openConsoleDb, type ConsoleDb } from "./console-db";

type Variant = { name: string; setup: () => Promise<{ databaseUrl?: string; teardown: () => Promise<void> }> };
const variants: Variant[] = [{ name: "PGlite in the data dir", setup: async () => ({ databaseUrl: undefined, teardown: async () => {} }) }];
if (process.env.SWITCHYARD_TEST_SERVICES === "1") {
  variants.push({
    name: "PostgreSQL",
    setup: async () => {
      const db = await createScratchDatabase({ prefix: "switchyard_seed" });
      return { databaseUrl: db.url, teardown: db.drop };
    },
  });
}

describe.each(variants)("console db with $name", ({ setup }) => {
  let dataDir: string;
  let databaseUrl: string | undefined;
  let teardown: () => Promise<void>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-seed-"));
    ({ databaseUrl, teardown } = await setup());
  });
  afterAll(async () => {
    await teardown?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("migrates once and then reports nothing to do", async () => {
    const first = await migrateConsoleDb({ dataDir, databaseUrl });
    expect(first.applied.length).toBe(first.total);
    expect(first.total).toBeGreaterThan(0);
    const second = await migrateConsoleDb({ dataDir, databaseUrl });
    expect(second.applied).toEqual([]);
  });

  it("seeds demo users once, in better-auth's layout, with working passwords", async () => {
    const db: ConsoleDb = await openConsoleDb({ dataDir, databaseUrl });
    try {
      const first = await seedDemo(db.prisma(), { dataDir, regions: ["eu-north", "eu-west"] });
      expect(first.created).toBe(true);
      expect(first.logins.map((l) => l.role)).toEqual(["admin", "operator", "trader", "trader", "support", "viewer"]);

      const users = await db.prisma().user.findMany({ include: { accounts: true } });
      expect(users).toHaveLength(6);
      const byEmail = new Map(users.map((u) => [u.email, u]));
      expect(byEmail.get("trader.tso@switchyard.local")?.participantId).toBe("tso-1");
      expect(byEmail.get("trader.dso@switchyard.local")?.participantId).toBe("dso-north");
      expect(byEmail.get("admin@switchyard.local")?.regions).toEqual(["eu-north", "eu-west"]);
      expect(byEmail.get("viewer@switchyard.local")?.regions).toEqual(["eu-north"]);
      expect(await db.prisma().participant.count()).toBe(3);

      for (const login of first.logins) {
        expect(login.password).toMatch(/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
        const user = byEmail.get(login.email)!;
        expect(user.emailVerified).toBe(true);
        const [account] = user.accounts;
        expect(account).toMatchObject({ providerId: "credential", accountId: user.id });
        expect(await verifyPassword({ hash: account.password!, password: login.password })).toBe(true);
      }

      const file = credentialsPath(dataDir);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const stored = readCredentials(dataDir);
      expect(stored.logins).toEqual(first.logins);
      expect(stored.secrets?.betterAuthSecret?.length).toBeGreaterThanOrEqual(32);

      const again = await seedDemo(db.prisma(), { dataDir });
      expect(again.created).toBe(false);
      expect(again.logins).toEqual(first.logins);
      expect(await db.prisma().user.count()).toBe(6);
    } finally {
      await db.close();
    }
  });
});

describe("ensureSecrets", () => {
  it("creates missing secrets and keeps existing ones", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-secrets-"));
    try {
      fs.writeFileSync(credentialsPath(dir), JSON.stringify({ secrets: { betterAuthSecret: "kept-kept-kept-kept-kept-kept-kept-kept" }, logins: [] }));
      const secrets = ensureSecrets(dir);
      expect(secrets.betterAuthSecret).toBe("kept-kept-kept-kept-kept-kept-kept-kept");
      expect(secrets.siteToken.length).toBeGreaterThanOrEqual(32);
      expect(ensureSecrets(dir)).toEqual(secrets);
      expect(fs.statSync(credentialsPath(dir)).mode & 0o777).toBe(0o600);
      expect(readCredentials(dir).logins).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to overwrite an unreadable credentials file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-secrets-"));
    try {
      fs.writeFileSync(credentialsPath(dir), "{broken");
      expect(() => ensureSecrets(dir)).toThrow(/not valid JSON/);
      expect(fs.readFileSync(credentialsPath(dir), "utf8")).toBe("{broken");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
