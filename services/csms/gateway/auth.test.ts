import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChargeStationAuth } from "../../../contracts/csms/mqtt";
import { base64Sha256, createManagerAuthenticator, passwordMatches } from "./auth";

describe("passwordMatches", () => {
  const record: ChargeStationAuth = { securityProfile: 0, base64SHA256Password: base64Sha256("s3cret") };
  it("compares the SHA-256 of the password", () => {
    expect(passwordMatches(record, "s3cret", true)).toBe(true);
    expect(passwordMatches(record, "S3cret", true)).toBe(false);
    expect(passwordMatches(record, undefined, true)).toBe(false);
  });
  it("honours invalidUsernameAllowed and refuses certificate-only profiles", () => {
    expect(passwordMatches(record, "s3cret", false)).toBe(false);
    expect(passwordMatches({ ...record, invalidUsernameAllowed: true }, "s3cret", false)).toBe(true);
    expect(passwordMatches({ ...record, securityProfile: 1 }, "s3cret", true)).toBe(true);
    expect(passwordMatches({ ...record, securityProfile: 2 }, "s3cret", true)).toBe(false);
    expect(passwordMatches({ securityProfile: 0 }, "s3cret", true)).toBe(false);
  });
});

describe("createManagerAuthenticator (the manager's GET /api/v0/cs/{id}/auth)", () => {
  const requests: { url: string; token?: string }[] = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push({ url: req.url ?? "", token: req.headers["x-gateway-token"] as string | undefined });
      if (req.headers["x-gateway-token"] !== "gw-token") return void res.writeHead(401).end();
      const id = decodeURIComponent((req.url ?? "").split("/")[4] ?? "");
      if (id === "CS1" || id === "CS:1") {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ securityProfile: 0, base64SHA256Password: base64Sha256("pw1"), invalidUsernameAllowed: false }));
      }
      if (id === "BROKEN") return void res.writeHead(500).end();
      if (id === "GARBAGE") return void res.writeHead(200, { "content-type": "application/json" }).end('{"securityProfile":"zero"}');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("accepts the right password, refuses a wrong one and unknown stations", async () => {
    const auth = createManagerAuthenticator({ managerUrl: url, token: "gw-token" });
    expect(await auth("CS1", "pw1", { usernameMatches: true })).toBe(true);
    expect(await auth("CS1", "nope", { usernameMatches: true })).toBe(false);
    expect(await auth("UNKNOWN", "pw1", { usernameMatches: true })).toBe(false);
    expect(await auth("CS:1", "pw1", { usernameMatches: true })).toBe(true);
    expect(requests.find((r) => r.url.startsWith("/api/v0/cs/CS%3A1/auth"))).toMatchObject({ token: "gw-token" });
  });

  it("caches found records and coalesces concurrent lookups", async () => {
    const auth = createManagerAuthenticator({ managerUrl: `${url}/`, token: "gw-token" });
    const before = requests.length;
    const results = await Promise.all([1, 2, 3].map(() => auth("CS1", "pw1", { usernameMatches: true })));
    expect(results).toEqual([true, true, true]);
    expect(await auth("CS1", "pw1", { usernameMatches: true })).toBe(true);
    expect(requests.length - before).toBe(1);
  });

  it("refuses when the manager rejects the gateway token", async () => {
    const auth = createManagerAuthenticator({ managerUrl: url, token: "wrong" });
    expect(await auth("CS1", "pw1", { usernameMatches: true })).toBe(false);
  });

  it("throws (→ 503 at the upgrade) when the answer is unknown", async () => {
    const auth = createManagerAuthenticator({ managerUrl: url, token: "gw-token" });
    await expect(auth("BROKEN", "pw1", { usernameMatches: true })).rejects.toThrow(/500/);
    await expect(auth("GARBAGE", "pw1", { usernameMatches: true })).rejects.toThrow(/invalid body/);
    const down = createManagerAuthenticator({ managerUrl: "http://127.0.0.1:9", token: "gw-token", timeoutMs: 2000 });
    await expect(down("CS1", "pw1", { usernameMatches: true })).rejects.toThrow();
  });
});
