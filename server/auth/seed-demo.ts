import { randomBytes, randomInt, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { PrismaClient } from "@prisma/client";
import { hashPassword } from "better-auth/crypto";
import { credentialsPath, envSchema, type Credentials } from "../env";

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

const generateSecret = () => randomBytes(32).toString("base64url");

/**
 * Unlike readCredentials (which treats a broken file as empty, fine for reading), writers
 * must refuse to continue: overwriting an unreadable file would silently discard the
 * only copy of the demo passwords and the session secret.
 */
const readCredentialsStrict = (dataDir: string): Credentials => {
  const file = credentialsPath(dataDir);
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Credentials;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
};

/** Write-then-rename so a crash never leaves a half-written file; 0600 because it holds secrets. */
const writeCredentials = (dataDir: string, credentials: Credentials) => {
  const file = credentialsPath(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  fs.chmodSync(file, 0o600);
};

/** Creates credentials.json's secrets if missing, keeping any that exist (and the logins). */
export const ensureSecrets = (dataDir: string): Secrets => {
  const current = readCredentialsStrict(dataDir);
  const secrets: Secrets = {
    betterAuthSecret: current.secrets?.betterAuthSecret ?? generateSecret(),
    siteToken: current.secrets?.siteToken ?? generateSecret(),
  };
  const changed = secrets.betterAuthSecret !== current.secrets?.betterAuthSecret || secrets.siteToken !== current.secrets?.siteToken;
  if (changed) writeCredentials(dataDir, { ...current, secrets: { ...current.secrets, ...secrets } });
  else fs.chmodSync(credentialsPath(dataDir), 0o600);
  return secrets;
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

  const allRegions = regions ?? envSchema.shape.MONITORING_REGIONS.parse(process.env.MONITORING_REGIONS);
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
