import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GET as authGET, POST as authPOST } from "@/app/api/auth/[...all]/route";
import { GET as trpcGET, POST as trpcPOST } from "@/app/api/trpc/[trpc]/route";
import { createUser } from "../admin/users";
import { createAuth } from "../auth/auth";
import { setAuth } from "../auth";
import { setDb, type Db } from "../db";
import { env } from "../env";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { PEER_HEADER } from "./socket-peer";

/**
 * The real route handlers of /api/trpc and /api/auth, called with real `Request`s as
 * `next start` passes them (the socket peer stamped by recordSocketPeers), over a real
 * database whose every operation is recorded: a refusal must leave exactly one audit
 * entry and nothing else, not even a session lookup.
 */
const BASE = env().publicUrl;
const PEER = "203.0.113.9";
const MB = 1024 * 1024;

type Call = { path: string; method?: string; origin?: string | null; body?: BodyInit; headers?: Record<string, string>; cookie?: string };
const request = ({ path, method = "POST", origin = BASE, body, headers = {}, cookie }: Call) =>
  new Request(`${BASE}${path}`, {
    method,
    headers: {
      [PEER_HEADER]: PEER,
      "x-forwarded-for": "6.6.6.6",
      ...(origin ? { origin } : {}),
      ...(cookie ? { cookie } : {}),
      ...(body !== undefined && typeof body === "string" ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);

/** A body that is produced only as it is read, counting what was pulled. */
const lazyBody = (totalBytes: number) => {
  const counter = { pulled: 0 };
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if (counter.pulled >= totalBytes) return controller.close();
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, counter };
};

describe("the /api/trpc and /api/auth route handlers refuse bad requests before any auth work", () => {
  let t: TestDb;
  let observed: Db;
  const ops: string[] = [];
  const opsSince = (mark: number) => ops.slice(mark);

  beforeAll(async () => {
    t = await createTestDb();
    observed = t.db.$extends({
      query: {
        $allOperations: async ({ model, operation, args, query }) => {
          ops.push(model ? `${model}.${operation}` : operation);
          return query(args);
        },
      },
    }) as unknown as Db;
    setDb(observed);
    setAuth(createAuth({ db: observed, env: env() }));
    await createUser(t.db, { email: "admin@example.test", name: "Admin", role: "admin", participantId: null, regions: [], password: "correct-horse-battery" }, []);
  });
  afterAll(async () => {
    setAuth(undefined);
    setDb(undefined);
    await t.close();
  });
  let mark = 0;
  beforeEach(() => {
    mark = ops.length;
  });

  const lastAudit = () => t.db.auditEntry.findFirst({ orderBy: { id: "desc" } });
  const signInCookie = async () => {
    const res = await authPOST(request({ path: "/api/auth/sign-in/email", body: JSON.stringify({ email: "admin@example.test", password: "correct-horse-battery" }) }));
    expect(res.status).toBe(200);
    return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  };

  it("refuses a tRPC mutation from a foreign origin with 403, audited with the socket peer's address", async () => {
    const cookie = await signInCookie();
    mark = ops.length;
    const res = await trpcPOST(request({ path: "/api/trpc/admin.users.unlockSignIn", origin: "https://evil.test", cookie, body: JSON.stringify({ json: { userId: crypto.randomUUID() } }) }));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ code: "FORBIDDEN", message: "Requests from https://evil.test may not change anything here." });
    expect(await lastAudit()).toMatchObject({
      action: "request.foreign_origin",
      outcome: "denied",
      target: "/api/trpc/admin.users.unlockSignIn",
      ip: PEER,
      input: { method: "POST", origin: "https://evil.test" },
      actorId: null,
    });
    expect(opsSince(mark)).toEqual(["AuditEntry.create"]);
  });

  it("refuses a tRPC mutation without an Origin", async () => {
    const res = await trpcPOST(request({ path: "/api/trpc/admin.users.unlockSignIn", origin: null, body: JSON.stringify({ json: { userId: crypto.randomUUID() } }) }));
    expect(res.status).toBe(403);
    expect(await lastAudit()).toMatchObject({ action: "request.foreign_origin", ip: PEER, input: { origin: null } });
    expect(opsSince(mark)).toEqual(["AuditEntry.create"]);
  });

  it("lets a same-origin mutation through to tRPC, which audits it with the peer's address, not the forwarded one", async () => {
    const cookie = await signInCookie();
    const userId = crypto.randomUUID();
    const res = await trpcPOST(request({ path: "/api/trpc/admin.users.unlockSignIn", cookie, body: JSON.stringify({ json: { userId } }) }));
    expect(res.status).toBe(404); // no such user: the procedure itself ran
    // The recorder sees better-auth's session lookup: its absence elsewhere means something.
    expect(opsSince(mark)).toContain("Session.findFirst");
    expect(await lastAudit()).toMatchObject({ action: "admin.users.unlockSignIn", outcome: "error", target: userId, ip: PEER, actorEmail: "admin@example.test" });
  });

  it("leaves queries alone, whatever their origin", async () => {
    const res = await trpcGET(request({ path: "/api/trpc/me.signInOptions", method: "GET", origin: "https://evil.test" }));
    expect(res.status).toBe(200);
    expect(opsSince(mark)).not.toContain("AuditEntry.create");
  });

  it("refuses a 50 MB tRPC body by its Content-Length with 413, without reading it or looking up a session", async () => {
    const cookie = await signInCookie();
    mark = ops.length;
    const { stream, counter } = lazyBody(50 * MB);
    const res = await trpcPOST(request({ path: "/api/trpc/admin.users.unlockSignIn", cookie, body: stream, headers: { "content-length": String(50 * MB), "content-type": "application/json" } }));
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(counter.pulled).toBeLessThanOrEqual(2 * 64 * 1024);
    expect(await lastAudit()).toMatchObject({ action: "request.body_too_large", ip: PEER, input: { contentLength: 50 * MB } });
    expect(opsSince(mark)).toEqual(["AuditEntry.create"]);
  });

  it.each([
    ["/api/trpc/admin.users.unlockSignIn", trpcPOST],
    ["/api/auth/sign-in/email", authPOST],
  ] as const)("refuses a 50 MB body streamed to %s without a Content-Length once it passes the cap, having read no more", async (path, handler) => {
    const { stream, counter } = lazyBody(50 * MB);
    const res = await handler(request({ path, body: stream, headers: { "content-type": "application/json" } }));
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeLessThanOrEqual(env().MAX_REQUEST_BODY_BYTES + 2 * 64 * 1024);
    // Before throttling, password or session work: the audit entry is the only write.
    expect(await lastAudit()).toMatchObject({ action: "request.body_too_large", target: path, ip: PEER, input: { contentLength: null } });
    expect(opsSince(mark)).toEqual(["AuditEntry.create"]);
  });

  it("audits better-auth's own rate-limit refusals with the peer's address", async () => {
    // Rate limiting is on outside NODE_ENV=test.
    setAuth(createAuth({ db: observed, env: { ...env(), NODE_ENV: "production" } }));
    try {
      // Its stock rule for sign-up is 3 requests in 10 s per address: the 4th is refused.
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const body = JSON.stringify({ email: `limited-${i}@example.test`, password: "whatever-long-pass", name: "x" });
        statuses.push((await authPOST(request({ path: "/api/auth/sign-up/email", body, headers: { [PEER_HEADER]: "198.51.100.250" } }))).status);
      }
      expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
      expect(statuses[3]).toBe(429);
      expect(await lastAudit()).toMatchObject({ action: "request.rate_limited", outcome: "denied", target: "/api/auth/sign-up/email", ip: "198.51.100.250" });
    } finally {
      setAuth(createAuth({ db: observed, env: env() }));
    }
  });

  it("hands better-auth the peer's address for its rate limit and the session, never the forwarded one", async () => {
    await signInCookie();
    const session = await t.db.session.findFirst({ orderBy: { createdAt: "desc" } });
    expect(session!.ipAddress).toBe(PEER);
    const res = await authGET(request({ path: "/api/auth/get-session", method: "GET" }));
    expect(res.status).toBe(200);
  });
});
