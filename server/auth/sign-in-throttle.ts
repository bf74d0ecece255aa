import "server-only";
import { Prisma } from "@prisma/client";
import type { Db } from "../db";
import type { Env } from "../env";

/**
 * Sign-in throttling, kept in the database so every console replica agrees.
 *
 * Two counters guard each attempt: one per (account, client address) and one per address
 * across all accounts (email ""). An attempt is *reserved* on both before the password is
 * checked, each with a single upsert whose WHERE decides under the row lock, so parallel
 * attempts cannot all read a stale count: 60 at once against a limit of 5 check 5 passwords
 * and refuse 55. Within the limit attempts go through at once; beyond it each must wait
 * 1 s, 2 s, 4 s … (LOGIN_FIRST_DELAY_SECONDS doubling, capped) after the previous one. A successful sign-in clears its
 * (account, address) row and gives back its address attempt; a failed one stays counted.
 * A row idle for the failure window after its wait ends starts afresh.
 *
 * Because the account counter is per address, someone guessing from elsewhere slows only
 * themselves: the account's owner signs in from their own address as usual.
 */
export type ThrottleLimits = Pick<
  Env,
  "LOGIN_MAX_FAILURES" | "LOGIN_MAX_FAILURES_PER_ADDRESS" | "LOGIN_FAILURE_WINDOW_MINUTES" | "LOGIN_FIRST_DELAY_SECONDS" | "LOGIN_MAX_DELAY_SECONDS"
>;

export type ThrottleVerdict = { allowed: true } | { allowed: false; scope: "account" | "address"; retryAfterSeconds: number };

/** The per-address row's email; no real address is empty. */
const ANY_ACCOUNT = "";
/** Requests that reached us without a socket peer (direct calls) share one bucket. */
const UNKNOWN_ADDRESS = "unknown";
const PRUNE_EVERY = 256;

type Key = { email: string; ip: string };

/** When the row's next attempt may start: right away inside the limit, then after first × 2^(attempts − limit) s, capped. */
const freeAt = (limit: number, { LOGIN_FIRST_DELAY_SECONDS: first, LOGIN_MAX_DELAY_SECONDS: cap }: ThrottleLimits) => Prisma.sql`(t."lastAttemptAt" + make_interval(secs => CASE
  WHEN t."attempts" < ${limit}::int THEN 0
  ELSE LEAST(${cap}::float8, ${first}::float8 * power(2, LEAST(t."attempts" - ${limit}::int, 40)))
END))`;

const reserve = async (db: Db, { email, ip }: Key, limit: number, limits: ThrottleLimits) => {
  const free = freeAt(limit, limits);
  const windowSeconds = limits.LOGIN_FAILURE_WINDOW_MINUTES * 60;
  const rows = await db.$queryRaw<{ attempts: number }[]>(Prisma.sql`
    INSERT INTO "console"."sign_in_throttle" AS t ("email", "ip", "attempts", "lastAttemptAt")
    VALUES (${email}, ${ip}, 1, now())
    ON CONFLICT ("email", "ip") DO UPDATE SET
      "attempts" = CASE WHEN now() > ${free} + make_interval(secs => ${windowSeconds}::float8) THEN 1 ELSE t."attempts" + 1 END,
      "lastAttemptAt" = now()
    WHERE now() >= ${free}
    RETURNING t."attempts"`);
  if (rows.length) return null;
  const [wait] = await db.$queryRaw<{ seconds: number }[]>(Prisma.sql`
    SELECT CEIL(EXTRACT(EPOCH FROM ${free} - now()))::int AS seconds
    FROM "console"."sign_in_throttle" t WHERE t."email" = ${email} AND t."ip" = ${ip}`);
  return Math.max(1, wait?.seconds ?? 1);
};

/** Gives an attempt back: it was refused by the other counter, or it succeeded. */
const giveBack = (db: Db, { email, ip }: Key) =>
  db.$executeRaw(Prisma.sql`
    UPDATE "console"."sign_in_throttle" SET "attempts" = GREATEST("attempts" - 1, 0)
    WHERE "email" = ${email} AND "ip" = ${ip}`);

const g = globalThis as unknown as { __switchyardThrottleCalls?: number };

/** Rows whose window ended long ago; cheap (indexed) and only every few hundred attempts. */
const pruneNowAndThen = async (db: Db, limits: ThrottleLimits) => {
  g.__switchyardThrottleCalls = ((g.__switchyardThrottleCalls ?? 0) + 1) % PRUNE_EVERY;
  if (g.__switchyardThrottleCalls !== 0) return;
  const idleSeconds = limits.LOGIN_FAILURE_WINDOW_MINUTES * 60 + limits.LOGIN_MAX_DELAY_SECONDS;
  await db.$executeRaw(Prisma.sql`
    DELETE FROM "console"."sign_in_throttle" WHERE "lastAttemptAt" < now() - make_interval(secs => ${idleSeconds}::float8)`);
};

const keysOf = ({ email, ip }: { email: string; ip: string | null }) => {
  const address = ip ?? UNKNOWN_ADDRESS;
  return { account: { email: email.trim().toLowerCase(), ip: address }, address: { email: ANY_ACCOUNT, ip: address } };
};

/** Reserves one attempt for `email` from `ip`, or says how long to wait. Call before checking the password. */
export const reserveSignInAttempt = async (
  db: Db,
  { email, ip, limits }: { email: string; ip: string | null; limits: ThrottleLimits },
): Promise<ThrottleVerdict> => {
  await pruneNowAndThen(db, limits);
  const keys = keysOf({ email, ip });
  const addressWait = await reserve(db, keys.address, limits.LOGIN_MAX_FAILURES_PER_ADDRESS, limits);
  if (addressWait !== null) return { allowed: false, scope: "address", retryAfterSeconds: addressWait };
  const accountWait = await reserve(db, keys.account, limits.LOGIN_MAX_FAILURES, limits);
  if (accountWait === null) return { allowed: true };
  await giveBack(db, keys.address);
  return { allowed: false, scope: "account", retryAfterSeconds: accountWait };
};

/** After a successful sign-in: the account is free again from this address, and the attempt was no failure. */
export const clearSignInAttempts = async (db: Db, { email, ip }: { email: string; ip: string | null }) => {
  const keys = keysOf({ email, ip });
  await db.signInThrottle.deleteMany({ where: keys.account });
  await giveBack(db, keys.address);
};

const inWords = (seconds: number) => {
  if (seconds < 120) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
};

/** What the sign-in page shows. */
export const throttleMessage = ({ scope, retryAfterSeconds }: Extract<ThrottleVerdict, { allowed: false }>) =>
  scope === "account"
    ? `Too many failed sign-ins for this account from your address. Wait ${inWords(retryAfterSeconds)}, then try again, or ask an admin to unlock your sign-in.`
    : `Too many failed sign-ins from your address. Wait ${inWords(retryAfterSeconds)}, then try again.`;
