import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * `.data/credentials.json`: the embedded site's generated secrets and demo logins, written
 * once (0600, write-then-rename) and read by every process the launcher starts. Services,
 * simulators and the console all read it here, so none of them imports another's code.
 */
export type MqttAccount = { username: string; password: string };

export type Credentials = {
  secrets?: { betterAuthSecret?: string; siteToken?: string } & Record<string, string | undefined>;
  logins?: { role: string; email: string; password: string; participantId?: string }[];
  /** One broker account per component (site, console, csms-gateway, …); username = component. */
  mqtt?: Record<string, MqttAccount>;
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

/**
 * Makes sure every named secret exists (random, never derived from anything) and returns
 * them all. Existing values are kept, so the file stays the one source of truth.
 */
export const ensureSecretsNamed = (dataDir: string, names: string[]): Record<string, string> => {
  const stored = updateCredentials(dataDir, (c) => ({
    ...c,
    secrets: { ...c.secrets, ...Object.fromEntries(names.filter((n) => !c.secrets?.[n]).map((n) => [n, generateSecret()])) },
  }));
  return Object.fromEntries(Object.entries(stored.secrets ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"));
};

/**
 * One broker account per component, generated on first use and kept: the embedded broker
 * checks them, `npm run mqtt:mosquitto-config` writes them into a Mosquitto password file,
 * and the launcher hands each process its own.
 */
export const ensureMqttAccounts = (dataDir: string, components: string[]): Record<string, MqttAccount> => {
  const stored = updateCredentials(dataDir, (c) => ({
    ...c,
    mqtt: { ...c.mqtt, ...Object.fromEntries(components.filter((n) => !c.mqtt?.[n]).map((n) => [n, { username: n, password: generateSecret() }])) },
  }));
  return stored.mqtt ?? {};
};

/** A component's stored broker account, if the site generated one (standalone services fall back to it). */
export const readMqttAccount = (dataDir: string, component: string): MqttAccount | undefined => readCredentials(dataDir).mqtt?.[component];

/**
 * The broker login of a standalone service: MQTT_USERNAME / MQTT_PASSWORD when set, else the
 * component's account in credentials.json (the site generated it), else none (anonymous).
 */
export const mqttLoginFor = ({ username, password, dataDir, component }: { username?: string; password?: string; dataDir: string; component: string }) => {
  if (username) return { mqttUsername: username, mqttPassword: password };
  const account = readMqttAccount(dataDir, component);
  return { mqttUsername: account?.username, mqttPassword: account?.password };
};
