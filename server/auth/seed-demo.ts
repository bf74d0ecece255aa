import { randomInt, randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { hashPassword } from "better-auth/crypto";
import { generateSecret, readCredentialsStrict, updateCredentials, writeCredentials } from "../../lib/credentials";
import { parseEnv } from "../../lib/env";
import { envSchema } from "../env";

export type DemoLogin = { role: string; email: string; password: string; participantId?: string };
export type Secrets = { betterAuthSecret: string; siteToken: string };

const DEMO_PARTICIPANTS = [
  { id: "tso-1", role: "TSO", name: "TSO Control" },
  { id: "dso-north", role: "DSO", name: "DSO North" },
  { id: "dso-south", role: "DSO", name: "DSO South" },
] as const;

type RegionScope = "all" | "viewer" | "none";
const DEMO_USERS: { role: string; email: string; name: string; participantId?: string; regions: RegionScope }[] = [
  { role: "admin", email: "admin@switchyard.local", name: "Demo Admin", regions: "all" },
  { role: "operator", email: "operator@switchyard.local", name: "Demo Operator", regions: "all" },
  { role: "trader", email: "trader.tso@switchyard.local", name: "Demo TSO Trader", participantId: "tso-1", regions: "none" },
  { role: "trader", email: "trader.dso@switchyard.local", name: "Demo DSO Trader", participantId: "dso-north", regions: "none" },
  { role: "support", email: "support@switchyard.local", name: "Demo Support", regions: "all" },
  { role: "viewer", email: "viewer@switchyard.local", name: "Demo Viewer", regions: "viewer" },
];

// No 0/o, 1/l/i: these passwords are read off a terminal and typed by hand.
const PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** Four groups of four, e.g. `k7dm-q2xa-9fhr-wn3e`: ~79 bits, easy to read aloud. */
export const generateDemoPassword = () =>
  Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]).join("")).join("-");


/** Creates credentials.json's secrets if missing, keeping any that exist (and the logins). */
export const ensureSecrets = (dataDir: string): Secrets => {
  const stored = updateCredentials(dataDir, (c) => ({
    ...c,
    secrets: { ...c.secrets, betterAuthSecret: c.secrets?.betterAuthSecret ?? generateSecret(), siteToken: c.secrets?.siteToken ?? generateSecret() },
  }));
  return { betterAuthSecret: stored.secrets!.betterAuthSecret!, siteToken: stored.secrets!.siteToken! };
};

export type SeedDemoOptions = {
  dataDir: string;
  /** Defaults to MONITORING_REGIONS (or its default list). */
  regions?: string[];
};

/**
 * Demo participants and one user per role, only into an empty user table: seeding is safe
 * to run on every start and never touches real accounts. Users are written in
 * better-auth's own layout (user + credential account), so sign-in works unchanged.
 */
export const seedDemo = async (db: PrismaClient, { dataDir, regions }: SeedDemoOptions) => {
  const secrets = ensureSecrets(dataDir);
  if ((await db.user.count()) > 0) return { created: false, logins: readCredentialsStrict(dataDir).logins ?? [], secrets };

  const allRegions = regions ?? parseEnv(envSchema.pick({ MONITORING_REGIONS: true })).MONITORING_REGIONS;
  const viewerRegions = allRegions.includes("eu-north") ? ["eu-north"] : allRegions.slice(0, 1);
  const regionsFor = (scope: RegionScope) => (scope === "all" ? allRegions : scope === "viewer" ? viewerRegions : []);

  const users = await Promise.all(
    DEMO_USERS.map(async (u) => {
      const password = generateDemoPassword();
      return { ...u, id: randomUUID(), email: u.email.toLowerCase(), password, hash: await hashPassword(password) };
    }),
  );
  const logins: DemoLogin[] = users.map(({ role, email, password, participantId }) => ({ role, email, password, ...(participantId ? { participantId } : {}) }));

  // Passwords are saved before the users exist: if the insert then fails, the next seed
  // (still an empty table) simply replaces them; the reverse order could lose them.
  writeCredentials(dataDir, { ...readCredentialsStrict(dataDir), logins });

  await db.$transaction([
    ...DEMO_PARTICIPANTS.map((p) => db.participant.upsert({ where: { id: p.id }, create: { ...p }, update: {} })),
    ...users.flatMap((u) => [
      db.user.create({
        data: { id: u.id, name: u.name, email: u.email, emailVerified: true, role: u.role, participantId: u.participantId ?? null, regions: regionsFor(u.regions) },
      }),
      db.account.create({ data: { id: randomUUID(), accountId: u.id, providerId: "credential", userId: u.id, password: u.hash } }),
    ]),
  ]);
  return { created: true, logins, secrets };
};
