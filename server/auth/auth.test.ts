import { verifyPassword } from "better-auth/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../admin/users";
import { loadEnv } from "../env";
import { PEER_HEADER } from "../http/socket-peer";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory, createContext } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";
import { createAuth, type Auth } from "./auth";
import { sessionEvents, type SessionChange } from "./session-events";
import { unlockSignIn } from "./unlock-sign-in";

const BASE = "http://127.0.0.1:3000";
const PASSWORD = "correct-horse-battery";

/** A sign-in as it reaches better-auth from `next start`: the socket peer stamped, any X-Forwarded-For as the client sent it. */
const signIn = (auth: Auth, email: string, password: string, { peer = "10.1.2.3", forwardedFor }: { peer?: string; forwardedFor?: string } = {}) =>
  auth.handler(
    new Request(`${BASE}/api/auth/sign-in/email`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: BASE,
        [PEER_HEADER]: peer,
        ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
      },
      body: JSON.stringify({ email, password }),
    }),
  );
const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
const messageOf = async (res: Response) => ((await res.json()) as { message: string }).message;

describe("sign-in, sessions and throttling (better-auth over the real database)", () => {
  let t: TestDb;
  let auth: Auth;
  let checks = 0;
  // A first delay long enough that no test can outlive it: throttled stays throttled however slow the machine.
  const env = loadEnv({ NODE_ENV: "test", LOGIN_MAX_FAILURES: "3", LOGIN_MAX_FAILURES_PER_ADDRESS: "10", LOGIN_FIRST_DELAY_SECONDS: "600", SESSION_TTL_HOURS: "8" });
  const newUser = async (email: string) =>
    (await createUser(t.db, { email, name: email, role: "viewer", participantId: null, regions: [], password: PASSWORD }, [])).user;

  beforeAll(async () => {
    t = await createTestDb();
    // Count every password that is actually checked against its hash.
    auth = createAuth({ db: t.db, env, verifyPassword: (data) => (checks++, verifyPassword(data)) });
    await createUser(t.db, { email: "ops@example.test", name: "Ops", role: "operator", participantId: null, regions: [], password: PASSWORD }, []);
    await newUser("gone@example.test");
    await t.db.user.update({ where: { email: "gone@example.test" }, data: { disabled: true } });
  });
  afterAll(async () => t.close());

  it("signs in with the right password, sets a secure-by-default session cookie, and audits it", async () => {
    const res = await signIn(auth, "ops@example.test", PASSWORD);
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie().join("\n");
    expect(setCookie).toMatch(/switchyard\.session_token=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const ctx = await createContext({ db: t.db, auth, headers: new Headers({ cookie: cookieOf(res) }) });
    expect(ctx.user).toMatchObject({ email: "ops@example.test", role: "operator" });
    const session = await t.db.session.findFirst({ where: { user: { email: "ops@example.test" } } });
    const ttlHours = (session!.expiresAt.getTime() - Date.now()) / 3600_000;
    expect(ttlHours).toBeGreaterThan(7.9);
    expect(ttlHours).toBeLessThanOrEqual(8);
    expect(await t.db.auditEntry.findFirst({ where: { action: "auth.sign_in", actorEmail: "ops@example.test", outcome: "ok", ip: "10.1.2.3" } })).not.toBeNull();
  });

  it("throttles an account from the address that keeps failing, with a plain message saying how long to wait", async () => {
    await newUser("locked@example.test");
    for (let i = 0; i < 3; i++) expect((await signIn(auth, "locked@example.test", "wrong-password-" + i)).status).toBe(401);
    const failures = await t.db.auditEntry.findMany({ where: { action: "auth.sign_in", actorEmail: "locked@example.test" } });
    expect(failures.map((f) => [f.outcome, f.ip])).toEqual([["error", "10.1.2.3"], ["error", "10.1.2.3"], ["error", "10.1.2.3"]]);

    const before = checks;
    const throttled = await signIn(auth, "locked@example.test", PASSWORD);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(590);
    expect(await messageOf(throttled)).toBe(
      "Too many failed sign-ins for this account from your address. Wait 10 minutes, then try again, or ask an admin to unlock your sign-in.",
    );
    expect(checks).toBe(before); // refused before the password was looked at
    expect(await t.db.auditEntry.findFirst({ where: { actorEmail: "locked@example.test", outcome: "denied" } })).toMatchObject({
      ip: "10.1.2.3",
      error: expect.stringMatching(/^throttled \(account, retry in \d+ s\)$/),
    });
    expect(await t.db.session.count({ where: { user: { email: "locked@example.test" } } })).toBe(0);
  });

  it("still lets the account's owner in from another address, with the right password", async () => {
    const res = await signIn(auth, "locked@example.test", PASSWORD, { peer: "192.0.2.77" });
    expect(res.status).toBe(200);
    expect(await t.db.session.count({ where: { user: { email: "locked@example.test" } } })).toBe(1);
    // …and the attacker's address is still throttled for that account.
    expect((await signIn(auth, "locked@example.test", PASSWORD)).status).toBe(429);
  });

  it("checks at most the limit of 60 parallel wrong passwords and refuses the rest before checking", async () => {
    await newUser("raced@example.test");
    const before = checks;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => signIn(auth, "raced@example.test", `wrong-password-${i}`, { peer: "198.51.100.60" })));
    const statuses = results.map((r) => r.status);
    expect(checks - before).toBe(3);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(57);
    expect(await t.db.auditEntry.count({ where: { actorEmail: "raced@example.test", outcome: "denied" } })).toBe(57);
  });

  it("neither lets a rotated X-Forwarded-For bypass throttling nor writes it into the audit log", async () => {
    await newUser("spoofed@example.test");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await signIn(auth, "spoofed@example.test", "wrong-password", { peer: "203.0.113.5", forwardedFor: `6.6.6.${i}` })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    const entries = await t.db.auditEntry.findMany({ where: { actorEmail: "spoofed@example.test" } });
    expect(new Set(entries.map((e) => e.ip))).toEqual(new Set(["203.0.113.5"]));
  });

  it("believes X-Forwarded-For when the socket peer is a trusted proxy, from the right, only through trusted hops", async () => {
    const proxied = createAuth({ db: t.db, env: { ...env, TRUSTED_PROXIES: ["10.0.0.0/8"] } });
    await newUser("proxied@example.test");
    // The client wrote 6.6.6.6 itself; the proxy 10.0.0.9 appended the real client, 198.51.100.23.
    const res = await signIn(proxied, "proxied@example.test", "wrong-password", { peer: "10.0.0.9", forwardedFor: "6.6.6.6, 198.51.100.23" });
    expect(res.status).toBe(401);
    expect(await t.db.auditEntry.findFirst({ where: { actorEmail: "proxied@example.test" } })).toMatchObject({ ip: "198.51.100.23" });
    // Two clients behind the same proxy are throttled separately.
    for (let i = 0; i < 3; i++) await signIn(proxied, "proxied@example.test", "wrong-password", { peer: "10.0.0.9", forwardedFor: "198.51.100.23" });
    expect((await signIn(proxied, "proxied@example.test", "wrong-password", { peer: "10.0.0.9", forwardedFor: "198.51.100.23" })).status).toBe(429);
    expect((await signIn(proxied, "proxied@example.test", PASSWORD, { peer: "10.0.0.9", forwardedFor: "198.51.100.24" })).status).toBe(200);
  });

  it("slows down one address spraying passwords across many accounts", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signIn(auth, `nobody-${i}@example.test`, "wrong-password", { peer: "203.0.113.200" })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    const refused = await signIn(auth, "ops@example.test", PASSWORD, { peer: "203.0.113.200" });
    expect(refused.status).toBe(429);
    expect(await messageOf(refused)).toMatch(/^Too many failed sign-ins from your address\. Wait 10 minutes/);
    expect((await signIn(auth, "ops@example.test", PASSWORD, { peer: "203.0.113.201" })).status).toBe(200);
  });

  it("lets an admin unlock a throttled account, through an audited mutation", async () => {
    const user = await newUser("unlock-me@example.test");
    for (let i = 0; i < 3; i++) await signIn(auth, "unlock-me@example.test", "wrong-password");
    expect((await signIn(auth, "unlock-me@example.test", PASSWORD)).status).toBe(429);

    const admin = await createTestUser(t.db, "admin");
    const caller = createCallerFactory(appRouter)(makeContext(t.db, admin));
    expect(await caller.admin.users.unlockSignIn({ userId: user.id })).toEqual({ userId: user.id, cleared: 1 });
    expect(await t.db.auditEntry.findFirst({ where: { action: "admin.users.unlockSignIn", actorId: admin.id } })).toMatchObject({ outcome: "ok", target: user.id });
    expect((await signIn(auth, "unlock-me@example.test", PASSWORD)).status).toBe(200);

    const operator = await createTestUser(t.db, "operator");
    await expect(createCallerFactory(appRouter)(makeContext(t.db, operator)).admin.users.unlockSignIn({ userId: user.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(unlockSignIn(t.db, { userId: crypto.randomUUID() })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses disabled accounts even with the right password", async () => {
    const res = await signIn(auth, "gone@example.test", PASSWORD);
    expect(res.status).toBe(403);
    expect(await t.db.session.count({ where: { user: { email: "gone@example.test" } } })).toBe(0);
  });

  it("does not let the public sign up", async () => {
    const res = await auth.handler(
      new Request(`${BASE}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: BASE },
        body: JSON.stringify({ email: "me@evil.test", password: "whatever-long-pass", name: "x" }),
      }),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await t.db.user.count({ where: { email: "me@evil.test" } })).toBe(0);
  });

  it("keeps better-auth's own origin check: a sign-in posted from a foreign origin is refused", async () => {
    const res = await auth.handler(
      new Request(`${BASE}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.test", cookie: "switchyard.session_token=x", [PEER_HEADER]: "10.9.9.9" },
        body: JSON.stringify({ email: "ops@example.test", password: PASSWORD }),
      }),
    );
    expect(res.status).toBe(403);
  });

  it("signs out, audits it, announces the ended session to its live streams, and the cookie stops working", async () => {
    const res = await signIn(auth, "ops@example.test", PASSWORD);
    const cookie = cookieOf(res);
    const { user, session } = (await auth.api.getSession({ headers: new Headers({ cookie }) }))!;
    const changes: SessionChange[] = [];
    const listener = (change: SessionChange) => changes.push(change);
    sessionEvents().on("change", listener);
    try {
      const out = await auth.handler(new Request(`${BASE}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin: BASE, [PEER_HEADER]: "10.1.2.3" } }));
      expect(out.status).toBe(200);
    } finally {
      sessionEvents().off("change", listener);
    }
    expect(changes).toEqual([{ userId: user.id, reason: "signed_out", sessionId: session.id }]);
    const ctx = await createContext({ db: t.db, auth, headers: new Headers({ cookie }) });
    expect(ctx.user).toBeNull();
    expect(await t.db.auditEntry.count({ where: { action: "auth.sign_out", actorEmail: "ops@example.test", ip: "10.1.2.3" } })).toBe(1);
  });

  it("marks cookies Secure (and __Secure- prefixed) when the console is served over https", async () => {
    const secureAuth = createAuth({ db: t.db, env: { ...env, publicUrl: "https://console.example.test" } });
    const res = await secureAuth.handler(
      new Request("https://console.example.test/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://console.example.test" },
        body: JSON.stringify({ email: "ops@example.test", password: PASSWORD }),
      }),
    );
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie().find((c) => c.includes("session_token"))!;
    expect(setCookie).toMatch(/^__Secure-switchyard\.session_token=/);
    expect(setCookie).toMatch(/;\s*Secure/i);
  });

  it("treats an expired session as no session", async () => {
    const res = await signIn(auth, "ops@example.test", PASSWORD);
    const cookie = cookieOf(res);
    await t.db.session.updateMany({ where: { user: { email: "ops@example.test" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const ctx = await createContext({ db: t.db, auth, headers: new Headers({ cookie }) });
    expect(ctx.user).toBeNull();
  });
});
