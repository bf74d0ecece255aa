import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { clearSignInAttempts, reserveSignInAttempt, type ThrottleLimits } from "./sign-in-throttle";

const limits: ThrottleLimits = {
  LOGIN_MAX_FAILURES: 2,
  LOGIN_MAX_FAILURES_PER_ADDRESS: 100,
  LOGIN_FAILURE_WINDOW_MINUTES: 15,
  // Delays far longer than any test step, so how fast the machine runs cannot change a verdict.
  LOGIN_FIRST_DELAY_SECONDS: 100,
  LOGIN_MAX_DELAY_SECONDS: 800,
};

describe("sign-in throttle (one atomic counter row per account + address, and per address)", () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.close());

  const reserve = (email: string, ip: string | null, l = limits) => reserveSignInAttempt(t.db, { email, ip, limits: l });
  /** Time passes for the rows, not for the test: their last attempt moves into the past. */
  const age = (seconds: number) =>
    t.db.$executeRaw`UPDATE "console"."sign_in_throttle" SET "lastAttemptAt" = "lastAttemptAt" - make_interval(secs => ${seconds}::float8)`;
  const row = (email: string, ip: string) => t.db.signInThrottle.findUnique({ where: { email_ip: { email, ip } } });

  it("lets the first attempts through, then makes each wait twice as long as the last, up to the cap", async () => {
    expect(await reserve("a@example.test", "192.0.2.1")).toEqual({ allowed: true });
    expect(await reserve("a@example.test", "192.0.2.1")).toEqual({ allowed: true });
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const verdict = await reserve("a@example.test", "192.0.2.1");
      if (verdict.allowed) throw new Error("expected a wait");
      expect(verdict.scope).toBe("account");
      waits.push(verdict.retryAfterSeconds);
      await age(verdict.retryAfterSeconds);
      expect(await reserve("a@example.test", "192.0.2.1")).toEqual({ allowed: true });
    }
    expect(waits).toEqual([100, 200, 400, 800, 800]);
  });

  it("keys on the address too: the same account from elsewhere is not slowed, nor is another account", async () => {
    expect(await reserve("a@example.test", "192.0.2.2")).toEqual({ allowed: true });
    expect(await reserve("b@example.test", "192.0.2.1")).toEqual({ allowed: true });
    expect(await reserve("A@Example.test ", "192.0.2.1")).toMatchObject({ allowed: false, scope: "account" });
  });

  it("forgets a row that stayed idle for the failure window after its wait", async () => {
    await reserve("idle@example.test", "192.0.2.3");
    await reserve("idle@example.test", "192.0.2.3");
    expect(await reserve("idle@example.test", "192.0.2.3")).toMatchObject({ allowed: false });
    await age(15 * 60 + 100 + 1);
    expect(await reserve("idle@example.test", "192.0.2.3")).toEqual({ allowed: true });
    expect(await row("idle@example.test", "192.0.2.3")).toMatchObject({ attempts: 1 });
  });

  it("clears the account's row on success and gives the address its attempt back", async () => {
    await reserve("ok@example.test", "192.0.2.4");
    const addressBefore = (await row("", "192.0.2.4"))!.attempts;
    await clearSignInAttempts(t.db, { email: "ok@example.test", ip: "192.0.2.4" });
    expect(await row("ok@example.test", "192.0.2.4")).toBeNull();
    expect((await row("", "192.0.2.4"))!.attempts).toBe(addressBefore - 1);
  });

  it("does not count an attempt the account counter refused against the address", async () => {
    await reserve("c@example.test", "192.0.2.5");
    await reserve("c@example.test", "192.0.2.5");
    const addressBefore = (await row("", "192.0.2.5"))!.attempts;
    expect(await reserve("c@example.test", "192.0.2.5")).toMatchObject({ allowed: false, scope: "account" });
    expect((await row("", "192.0.2.5"))!.attempts).toBe(addressBefore);
  });

  it("slows one address down across accounts once it failed too often", async () => {
    const l = { ...limits, LOGIN_MAX_FAILURES_PER_ADDRESS: 3 };
    for (const name of ["x", "y", "z"]) expect(await reserve(`${name}@example.test`, "192.0.2.6", l)).toEqual({ allowed: true });
    expect(await reserve("fresh@example.test", "192.0.2.6", l)).toEqual({ allowed: false, scope: "address", retryAfterSeconds: 100 });
    expect(await row("fresh@example.test", "192.0.2.6")).toBeNull();
  });

  it("puts requests without a known address into one shared bucket", async () => {
    await reserve("n@example.test", null);
    expect(await row("n@example.test", "unknown")).toMatchObject({ attempts: 1 });
  });
});
