import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { sessionEvents, type SessionChange } from "../auth/session-events";
import { createTestUser, ensureParticipants, makeContext } from "../testing/context";
import { createCallerFactory } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";

describe("admin: users", () => {
  let t: TestDb;
  const createCaller = createCallerFactory(appRouter);
  let admin: Awaited<ReturnType<typeof createTestUser>>;
  const as = () => createCaller(makeContext(t.db, admin)).admin.users;

  beforeAll(async () => {
    t = await createTestDb();
    await ensureParticipants(t.db);
    admin = await createTestUser(t.db, "admin");
  });
  afterAll(async () => t.close());

  it("creates a user with a generated one-time password, stored only as a hash", async () => {
    const { user, generatedPassword } = await as().create({ name: "Dana", email: "Dana@Example.test", role: "support", regions: ["eu-west"] });
    expect(user).toMatchObject({ email: "dana@example.test", role: "support", regions: ["eu-west"], disabled: false });
    expect(generatedPassword).toMatch(/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
    const account = await t.db.account.findFirstOrThrow({ where: { userId: user.id } });
    expect(account.password).not.toContain(generatedPassword!);
  });

  it("binds traders to exactly one known market participant", async () => {
    await expect(as().create({ name: "T", email: "t1@example.test", role: "trader", regions: [] })).rejects.toMatchObject({ code: "BAD_REQUEST", field: "participantId" });
    await expect(as().create({ name: "T", email: "t2@example.test", role: "trader", participantId: "nope", regions: [] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(as().create({ name: "V", email: "v1@example.test", role: "viewer", participantId: "tso-1", regions: [] })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(as().create({ name: "R", email: "r1@example.test", role: "viewer", regions: ["mars-1"] })).rejects.toMatchObject({ code: "BAD_REQUEST", field: "regions" });
    const { user } = await as().create({ name: "T", email: "t3@example.test", role: "trader", participantId: "dso-north", regions: [] });
    expect(user.participantId).toBe("dso-north");
    expect(await t.db.user.count({ where: { email: { in: ["t1@example.test", "t2@example.test", "v1@example.test", "r1@example.test"] } } })).toBe(0);
  });

  it("updates roles, disables (signing the user out) and re-enables", async () => {
    const { user } = await as().create({ name: "Sam", email: "sam@example.test", role: "viewer", regions: [] });
    await t.db.session.create({ data: { id: "s-sam", token: "tok-sam", userId: user.id, expiresAt: new Date(Date.now() + 3600_000) } });
    expect((await as().update({ id: user.id, name: "Sam O", role: "operator", regions: ["eu-north"] })).role).toBe("operator");
    expect((await as().setDisabled({ id: user.id, disabled: true })).disabled).toBe(true);
    expect(await t.db.session.count({ where: { userId: user.id } })).toBe(0);
    expect((await as().setDisabled({ id: user.id, disabled: false })).disabled).toBe(false);
  });

  it("never leaves the console without an enabled admin, and admins cannot disable themselves", async () => {
    await expect(as().setDisabled({ id: admin.id, disabled: true })).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
    const others = await t.db.user.count({ where: { role: "admin", disabled: false } });
    expect(others).toBe(1);
    await expect(as().update({ id: admin.id, name: "A", role: "viewer", regions: [] })).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
    expect((await t.db.user.findUniqueOrThrow({ where: { id: admin.id } })).role).toBe("admin");
  });

  it("resets a password: new hash, sessions revoked, generated password returned once", async () => {
    const { user } = await as().create({ name: "Pat", email: "pat@example.test", role: "viewer", regions: [], password: "first-password-1" });
    const before = (await t.db.account.findFirstOrThrow({ where: { userId: user.id } })).password;
    await t.db.session.create({ data: { id: "s-pat", token: "tok-pat", userId: user.id, expiresAt: new Date(Date.now() + 3600_000) } });
    const { generatedPassword } = await as().resetPassword({ id: user.id });
    expect(generatedPassword).toBeTruthy();
    expect((await t.db.account.findFirstOrThrow({ where: { userId: user.id } })).password).not.toBe(before);
    expect(await t.db.session.count({ where: { userId: user.id } })).toBe(0);
  });

  it("announces every change that must end the user's live streams, and only those", async () => {
    const seen: SessionChange[] = [];
    const listen = (change: SessionChange) => seen.push(change);
    sessionEvents().on("change", listen);
    try {
      const { user } = await as().create({ name: "Kim", email: "kim@example.test", role: "viewer", regions: [] });
      await as().update({ id: user.id, name: "Kim K", role: "viewer", regions: [] });
      expect(seen).toEqual([]);
      await as().update({ id: user.id, name: "Kim K", role: "viewer", regions: ["eu-west"] });
      await as().update({ id: user.id, name: "Kim K", role: "operator", regions: ["eu-west"] });
      await as().setDisabled({ id: user.id, disabled: true });
      await as().setDisabled({ id: user.id, disabled: false });
      await as().resetPassword({ id: user.id });
      expect(seen).toEqual([
        { userId: user.id, reason: "role_changed" },
        { userId: user.id, reason: "role_changed" },
        { userId: user.id, reason: "disabled" },
        { userId: user.id, reason: "password_reset" },
      ]);
    } finally {
      sessionEvents().off("change", listen);
    }
  });

  it("answers unknown and malformed user ids with NOT_FOUND", async () => {
    for (const id of ["3f1e4c9a-0000-4000-8000-000000000000", "not-a-user"]) {
      await expect(as().update({ id, name: "X", role: "viewer", regions: [] })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(as().setDisabled({ id, disabled: true })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(as().resetPassword({ id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
  });

  it("lists with search and paging", async () => {
    const page = await as().list({ search: "example.test", limit: 2 });
    expect(page.items).toHaveLength(2);
    const next = await as().list({ search: "example.test", limit: 2, cursor: page.nextCursor });
    expect(next.items[0].email > page.items[1].email).toBe(true);
    expect(page.total).toBeGreaterThanOrEqual(4);
  });
});
