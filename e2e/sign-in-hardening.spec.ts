import { randomUUID } from "node:crypto";
import net from "node:net";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

/**
 * Request hardening against what `next start` really does with a socket: the peer Next
 * sees here is 127.0.0.1 and TRUSTED_PROXIES is empty, so nothing a client writes into
 * X-Forwarded-For may count.
 */
type AuditItem = { action: string; outcome: string; ip: string | null; actorEmail: string | null; error: string | null };

const query = async <T,>(api: APIRequestContext, path: string, input: unknown): Promise<T> => {
  const res = await api.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: { json: T } } }).result.data.json;
};
const auditOf = (api: APIRequestContext, filter: Record<string, string>) =>
  query<{ items: AuditItem[] }>(api, "audit.list", { filter, limit: 200 }).then((r) => r.items);

/**
 * A POST over a raw socket that sends its body only as fast as the server takes it (or,
 * with `stopAfter`, stops sending) and resolves with the status as soon as the server
 * answers. If the server waited for the whole body, this never resolves.
 */
const rawPost = (url: URL, { headers, declared, chunked, stopAfter = Infinity }: { headers: Record<string, string>; declared: number; chunked: boolean; stopAfter?: number }) =>
  new Promise<{ status: number | "reset"; sent: number }>((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let sent = 0;
    let answer = "";
    let answered = false;
    socket.on("data", (data) => {
      answer += data.toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (!status || answered) return;
      answered = true;
      resolve({ status: Number(status[1]), sent });
      socket.destroy();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (answered) return;
      answered = true;
      // The server answered and closed while this side was still writing: the reset can
      // beat the answer to us. The audit entries below prove which refusal it was.
      if (error.code === "EPIPE" || error.code === "ECONNRESET") resolve({ status: "reset", sent });
      else reject(error);
    });
    socket.on("connect", async () => {
      const length = chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(declared) };
      const head = Object.entries({ host: url.host, ...headers, ...length }).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`POST ${url.pathname} HTTP/1.1\r\n${head.join("")}\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      while (!answered && !socket.destroyed && sent < Math.min(declared, stopAfter)) {
        const framed = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
        sent += chunk.length;
        if (!socket.write(framed)) await new Promise((done) => (socket.once("drain", done), socket.once("close", done)));
      }
    });
  });

test("a rotated X-Forwarded-For does not escape throttling or reach the audit log; the page says how long to wait; an admin unlocks", async ({
  page,
  request,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  const viewer = loginFor("viewer");
  const attempt = (password: string, forwardedFor: string) =>
    request.post("/api/auth/sign-in/email", { headers: { origin, "x-forwarded-for": forwardedFor }, data: { email: viewer.email, password } });

  for (let i = 0; i < 5; i++) expect((await attempt(`wrong-password-${i}`, `6.6.6.${i}`)).status()).toBe(401);
  const throttled = await attempt(viewer.password, "6.6.6.99");
  expect(throttled.status()).toBe(429);
  expect(Number(throttled.headers()["retry-after"])).toBeGreaterThanOrEqual(1);

  await page.goto("/login");
  await page.getByLabel("Email").fill(viewer.email);
  await page.getByLabel("Password").fill(viewer.password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByTestId("login-error")).toContainText(/Too many failed sign-ins for this account from your address\. Wait \d+ (seconds?|minutes), then try again/);

  await signIn(page, loginFor("admin"));
  const entries = await auditOf(page.request, { actor: viewer.email, action: "auth.sign_in" });
  expect(entries.filter((e) => e.outcome === "error")).toHaveLength(5);
  expect(entries.filter((e) => e.outcome === "denied").length).toBeGreaterThanOrEqual(2);
  expect(new Set(entries.map((e) => e.ip))).toEqual(new Set(["127.0.0.1"]));

  const { items } = await query<{ items: { id: string; email: string }[] }>(page.request, "admin.users.list", { search: viewer.email, limit: 5 });
  const userId = items.find((u) => u.email === viewer.email)!.id;
  const unlocked = await page.request.post("/api/trpc/admin.users.unlockSignIn", { headers: { origin }, data: { json: { userId } } });
  expect(unlocked.status(), await unlocked.text()).toBe(200);
  expect((await auditOf(page.request, { action: "admin.users.unlockSignIn" }))[0]).toMatchObject({ outcome: "ok", ip: "127.0.0.1" });
  expect((await attempt(viewer.password, "6.6.6.100")).status()).toBe(200);
});

test("a mutation from a foreign or missing origin gets 403, a 50 MB body 413 before it is read, each audited with the real address", async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  await signIn(page, loginFor("admin"));
  const mutation = "/api/trpc/admin.users.unlockSignIn";
  const body = { json: { userId: randomUUID() } };

  const foreign = await page.request.post(mutation, { headers: { origin: "https://evil.example", "x-forwarded-for": "6.6.6.6" }, data: body });
  expect(foreign.status()).toBe(403);
  const missing = await page.request.post(mutation, { data: body });
  expect(missing.status()).toBe(403);
  // Same origin, the request passes the guard and reaches the procedure: no such user.
  expect((await page.request.post(mutation, { headers: { origin }, data: body })).status()).toBe(404);

  // Unauthenticated, 50 MB announced, 64 KB sent: the answer comes without the rest.
  const url = new URL(mutation, baseURL);
  const headers = { origin, "content-type": "application/json", "x-forwarded-for": "6.6.6.7" };
  expect(await rawPost(url, { headers, declared: 50 * 1024 * 1024, chunked: false, stopAfter: 64 * 1024 })).toMatchObject({ status: 413 });
  // Streamed without a length, as fast as the server reads: refused long before 50 MB.
  const streamed = await rawPost(url, { headers, declared: 50 * 1024 * 1024, chunked: true });
  expect([413, "reset"]).toContain(streamed.status);
  expect(streamed.sent).toBeLessThan(50 * 1024 * 1024);
  // The same cap in front of better-auth.
  expect(await rawPost(new URL("/api/auth/sign-in/email", baseURL), { headers, declared: 50 * 1024 * 1024, chunked: false, stopAfter: 64 * 1024 })).toMatchObject({ status: 413 });

  const refused = await auditOf(page.request, { action: "request." });
  expect(refused.filter((e) => e.action === "request.foreign_origin").length).toBeGreaterThanOrEqual(2);
  expect(refused.filter((e) => e.action === "request.body_too_large").length).toBeGreaterThanOrEqual(3);
  expect(new Set(refused.map((e) => e.ip))).toEqual(new Set(["127.0.0.1"]));
});
