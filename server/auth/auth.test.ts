import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../admin/users";
import { loadEnv } from "../env";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { createContext } from "../trpc/init";
import { createAuth, type Auth } from "./auth";

const BASE = "http://127.0.0.1:3000";
const signIn = (auth: Auth, email: string, password: string) =>
  auth.handler(
    new Request(`${BASE}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: BASE, "x-forwarded-for": "10.1.2.3" },
      body: JSON.stringify({ email, password }),
    }),
  );
const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

describe("sign-in, sessions and throttling (better-auth over the real database)", () => {
  let t: TestDb;
  let auth: Auth;
  const env = loadEnv({ NODE_ENV: "test", LOGIN_MAX_FAILURES: "3", SESSION_TTL_HOURS: "8" });

  beforeAll(async () => {
    t = await createTestDb();
    auth = createAuth({ db: t.db, env });
    await createUser(t.db, { email: "ops@example.test", name: "Ops", role: "operator", participantId: null, regions: [], password: "correct-horse-battery" }, []);
    await createUser(t.db, { email: "locked@example.test", name: "Lock", role: "viewer", participantId: null, regions: [], password: "correct-horse-battery" }, []);
    await createUser(t.db, { email: "gone@example.test", name: "Gone", role: "viewer", participantId: null, regions: [], password: "correct-horse-battery" }, []);
    await t.db.user.update({ where: { email: "gone@example.test" }, data: { disabled: true } });
  });
  afterAll(async () => t.close());

  it("signs in with the right password, sets a secure-by-default session cookie, and audits it", async () => {
    const res = await signIn(auth, "ops@example.test", "correct-horse-battery");
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
    expect(await t.db.auditEntry.findFirst({ where: { action: "auth.sign_in", actorEmail: "ops@example.test", outcome: "ok" } })).not.toBeNull();
  });

  it("refuses a wrong password, audits the failure, and locks the account after repeated failures", async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(auth, "locked@example.test", "wrong-password-" + i)).status).toBe(401);
    const failures = await t.db.auditEntry.findMany({ where: { action: "auth.sign_in", actorEmail: "locked@example.test" } });
    expect(failures.map((f) => f.outcome)).toEqual(["error", "error", "error"]);
    expect(failures[0].ip).toBe("10.1.2.3");
    const locked = await signIn(auth, "locked@example.test", "correct-horse-battery");
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as { message: string }).message).toMatch(/Too many failed sign-ins/);
    expect(await t.db.auditEntry.count({ where: { actorEmail: "locked@example.test", outcome: "denied" } })).toBe(1);
    expect(await t.db.session.count({ where: { user: { email: "locked@example.test" } } })).toBe(0);
  });

  it("lets a locked-out user in again once an admin resets the password", async () => {
    const { resetPassword } = await import("../admin/users");
    const user = await t.db.user.findUniqueOrThrow({ where: { email: "locked@example.test" } });
    await resetPassword(t.db, { id: user.id, password: "a-brand-new-password" });
    expect((await signIn(auth, "locked@example.test", "a-brand-new-password")).status).toBe(200);
  });

  it("refuses disabled accounts even with the right password", async () => {
    const res = await signIn(auth, "gone@example.test", "correct-horse-battery");
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

  it("signs out, audits it, and the cookie stops working", async () => {
    const res = await signIn(auth, "ops@example.test", "correct-horse-battery");
    const cookie = cookieOf(res);
    const out = await auth.handler(new Request(`${BASE}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin: BASE } }));
    expect(out.status).toBe(200);
    const ctx = await createContext({ db: t.db, auth, headers: new Headers({ cookie }) });
    expect(ctx.user).toBeNull();
    expect(await t.db.auditEntry.count({ where: { action: "auth.sign_out", actorEmail: "ops@example.test" } })).toBe(1);
  });

  it("marks cookies Secure (and __Secure- prefixed) when the console is served over https", async () => {
    const secureAuth = createAuth({ db: t.db, env: { ...env, publicUrl: "https://console.example.test" } });
    const res = await secureAuth.handler(
      new Request("https://console.example.test/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://console.example.test" },
        body: JSON.stringify({ email: "ops@example.test", password: "correct-horse-battery" }),
      }),
    );
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie().find((c) => c.includes("session_token"))!;
    expect(setCookie).toMatch(/^__Secure-switchyard\.session_token=/);
    expect(setCookie).toMatch(/;\s*Secure/i);
  });

  it("treats an expired session as no session", async () => {
    const res = await signIn(auth, "ops@example.test", "correct-horse-battery");
    const cookie = cookieOf(res);
    await t.db.session.updateMany({ where: { user: { email: "ops@example.test" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const ctx = await createContext({ db: t.db, auth, headers: new Headers({ cookie }) });
    expect(ctx.user).toBeNull();
  });
});
