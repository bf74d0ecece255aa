import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readSse, type SseEvent } from "../../lib/sse";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { announceSessionChange } from "../auth/session-events";
import { upstreamHealth } from "../connectors/health";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory, type SessionUser } from "./init";
import { appRouter } from "./routers/_app";

/**
 * Live streams end with their session, through the real router: at once when the change is
 * announced on this replica, and at the periodic re-check (shortened here) when it is not.
 */
const createCaller = createCallerFactory(appRouter);
let t: TestDb;
let admin: SessionUser;

/** Streams opened after this re-check their session every `ms`. */
const recheckEvery = (ms: number) => {
  vi.stubEnv("LIVE_SESSION_RECHECK_MS", String(ms));
  vi.stubEnv("LIVE_BATCH_MS", "0");
  // The settings are read once per process; read them again with the stubs.
  (globalThis as { __switchyardEnv?: unknown }).__switchyardEnv = undefined;
};

beforeAll(async () => {
  t = await createTestDb();
  admin = await createTestUser(t.db, "admin");
});
afterAll(async () => {
  vi.unstubAllEnvs();
  (globalThis as { __switchyardEnv?: unknown }).__switchyardEnv = undefined;
  await t.close();
});

/** A user with a real session row, as better-auth would have written it at sign-in. */
const signIn = async (role: SessionUser["role"] = "viewer") => {
  const user = await createTestUser(t.db, role);
  const session = await t.db.session.create({ data: { id: randomUUID(), token: randomUUID(), userId: user.id, expiresAt: new Date(Date.now() + 3600_000) } });
  return { user, sessionId: session.id };
};

/** Opens health.onChange as that session and reads its snapshot. */
const openStream = async ({ user, sessionId }: { user: SessionUser; sessionId: string | null }) => {
  const stream = (await createCaller(makeContext(t.db, user, sessionId)).health.onChange())[Symbol.asyncIterator]();
  const first = await stream.next();
  expect((first.value as unknown as [string, { kind: string }])[1].kind).toBe("snapshot");
  return stream;
};

const endsWith = async (next: Promise<unknown>) => {
  const error = await next.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
};

/** Proves a stream is still live: a change published now reaches it. */
const stillLive = async (stream: AsyncIterator<unknown>) => {
  const next = stream.next();
  const probe = upstreamHealth().register(`probe-${randomUUID()}`, "Probe");
  const { value } = await next;
  probe.unregister();
  expect((value as [string, { kind: string }])[1].kind).toBe("changes");
};

describe("a live stream ends at once with its session when the change is announced", () => {
  // The re-check stays at 30 s, beyond the test timeout: only the announcement can end these streams.
  beforeAll(() => recheckEvery(30_000));

  it("when an admin disables the user mid-stream (UNAUTHORIZED), and only that user's", async () => {
    const alice = await signIn();
    const bob = await signIn();
    const aliceStream = await openStream(alice);
    const bobStream = await openStream(bob);
    // Handled from the start: the stream may end before the admin call returns (slower databases).
    const ended = endsWith(aliceStream.next());
    await createCaller(makeContext(t.db, admin)).admin.users.setDisabled({ id: alice.user.id, disabled: true });
    const error = await ended;
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toMatch(/disabled/);
    await stillLive(bobStream);
    await bobStream.return?.();
  });

  it("when the user's role changes", async () => {
    const carol = await signIn("operator");
    const stream = await openStream(carol);
    const ended = endsWith(stream.next());
    await createCaller(makeContext(t.db, admin)).admin.users.update({ id: carol.user.id, name: carol.user.name, role: "viewer", participantId: null, regions: carol.user.regions });
    expect((await ended).code).toBe("UNAUTHORIZED");
  });

  it("when the password is reset", async () => {
    const dave = await signIn();
    const stream = await openStream(dave);
    const ended = endsWith(stream.next());
    await createCaller(makeContext(t.db, admin)).admin.users.resetPassword({ id: dave.user.id });
    expect((await ended).code).toBe("UNAUTHORIZED");
  });

  it("over the SSE HTTP path too: the browser is told how long silence means a dead link, then gets UNAUTHORIZED", async () => {
    const hal = await signIn();
    const controller = new AbortController();
    const res = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://console.test/api/trpc/health.onChange", { signal: controller.signal }),
      router: appRouter,
      createContext: () => makeContext(t.db, hal.user, hal.sessionId),
    });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events: SseEvent[] = [];
    let disabled = false;
    await readSse(res.body!, async (event) => {
      events.push(event);
      // Once the snapshot is in, the admin disables the user mid-stream.
      if (event.id && !disabled) {
        disabled = true;
        await createCaller(makeContext(t.db, admin)).admin.users.setDisabled({ id: hal.user.id, disabled: true });
      }
    });
    controller.abort();
    expect(events[0]).toMatchObject({ event: "connected", data: JSON.stringify({ reconnectAfterInactivityMs: 25_000 }) });
    const error = events.at(-1)!;
    expect(error.event).toBe("serialized-error");
    expect(JSON.parse(error.data)).toMatchObject({ json: { data: { code: "UNAUTHORIZED" }, message: expect.stringMatching(/disabled/) } });
  });

  it("when one session signs out: that session's stream ends, the user's other session keeps streaming", async () => {
    const erin = await signIn();
    const otherSession = await t.db.session.create({ data: { id: randomUUID(), token: randomUUID(), userId: erin.user.id, expiresAt: new Date(Date.now() + 3600_000) } });
    const leaving = await openStream(erin);
    const staying = await openStream({ user: erin.user, sessionId: otherSession.id });
    const ended = endsWith(leaving.next());
    await t.db.session.delete({ where: { id: erin.sessionId } });
    announceSessionChange({ userId: erin.user.id, reason: "signed_out", sessionId: erin.sessionId });
    expect((await ended).message).toMatch(/signed out/);
    await stillLive(staying);
    await staying.return?.();
  });

});

describe("a live stream ends with its session at the periodic re-check", () => {
  beforeAll(() => recheckEvery(150));

  it("when the periodic re-check finds the session gone (a change nobody announced here)", async () => {
    const frank = await signIn();
    const stream = await openStream(frank);
    const ended = endsWith(stream.next());
    // As another replica would: the row goes, no announcement reaches this process.
    await t.db.session.delete({ where: { id: frank.sessionId } });
    expect((await ended).code).toBe("UNAUTHORIZED");
  });

  it("when the periodic re-check finds the user disabled elsewhere", async () => {
    const grace = await signIn();
    const stream = await openStream(grace);
    const ended = endsWith(stream.next());
    await t.db.user.update({ where: { id: grace.user.id }, data: { disabled: true } });
    expect((await ended).message).toMatch(/disabled/);
  });
});
