import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * `.data/credentials.json`: the embedded site's generated secrets and demo logins, written
 * once (0600, write-then-rename) and read by every process the launcher starts. Services,
 * simulators and the console all read it here, so none of them imports another's code.
 */
export type Credentials = {
  secrets?: { betterAuthSecret?: string; siteToken?: string } & Record<string, string | undefined>;
  logins?: { role: string; email: string; password: string; participantId?: string }[];
} & Record<string, unknown>;

export const credentialsPath = (dataDir: string) => path.resolve(dataDir, "credentials.json");

/** Lenient: a missing or broken file reads as empty (fine for readers, who fall back to settings). */
export const readCredentials = (dataDir: string): Credentials => {
  try {
    return JSON.parse(fs.readFileSync(credentialsPath(dataDir), "utf8")) as Credentials;
  } catch {
    return {};
  }
};

/**
 * Strict: writers must refuse to continue on an unreadable file, since overwriting it would
 * silently discard the only copy of the demo passwords and the session secret.
 */
export const readCredentialsStrict = (dataDir: string): Credentials => {
  const file = credentialsPath(dataDir);
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Credentials;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
};

/** Write-then-rename so a crash never leaves a half-written file; 0600 because it holds secrets. */
export const writeCredentials = (dataDir: string, credentials: Credentials) => {
  const file = credentialsPath(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  fs.chmodSync(file, 0o600);
};

export const generateSecret = () => randomBytes(32).toString("base64url");

/**
 * Applies `update` to the stored credentials and writes them back only if something
 * changed; returns the result. Used for secrets and generated per-component passwords.
 */
export const updateCredentials = (dataDir: string, update: (current: Credentials) => Credentials): Credentials => {
  const current = readCredentialsStrict(dataDir);
  const next = update(structuredClone(current));
  if (JSON.stringify(next) !== JSON.stringify(current)) writeCredentials(dataDir, next);
  else if (fs.existsSync(credentialsPath(dataDir))) fs.chmodSync(credentialsPath(dataDir), 0o600);
  return next;
};
