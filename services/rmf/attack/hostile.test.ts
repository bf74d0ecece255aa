import nodeHttp from "node:http";
import net from "node:net";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INTERNAL_PATH, RMF_JWT_AUDIENCE, type FleetState } from "../../../contracts/rmf";
import { logger } from "../../../lib/log";
import type { TestDb } from "../../../lib/testing/db";
import type { RmfMain } from "../main/server";
import { startProxy, type RmfProxy } from "../proxy/proxy";
import { connectClient, eventually, http, ISSUER, openFeed, SECRET, startTestMain, token, type TestClient } from "../testkit";

/**
 * A hostile client on the same machine against RMF main and a proxy: every promise of the
 * README that an attacker could break, each a regression test of a fix.
 */
const ROOM_CAP = 30;
let main: RmfMain;
let testDb: TestDb;
let proxy: RmfProxy;
const clients: TestClient[] = [];
const client = async (url: string, jwt?: string) => {
  const c = await connectClient(url, jwt ?? (await token()));
  clients.push(c);
  return c;
};

beforeAll(async () => {
  const limits = { maxRoomsPerSocket: ROOM_CAP, subscribesPerSec: ROOM_CAP, subscribeBurst: ROOM_CAP };
  ({ main, testDb } = await startTestMain({ limits }));
  proxy = await startProxy({ port: 0, mainUrl: main.url, jwtSecret: SECRET, jwtIssuer: ISSUER, log: logger(), subscribeTimeoutMs: 3000, limits });
  await eventually(() => proxy.upstreamConnected(), "proxy connected");
});
afterAll(async () => {
  for (const c of clients) c.close();
  await proxy?.close();
  await main?.close();
  await testDb?.close();
});

describe("RMF under attack", () => {
  it("refuses a correctly signed token that never expires (README: exp is a required claim)", async () => {
    const forever = await new SignJWT({ preferred_username: "mallory", permissions: ["admin"] })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setAudience(RMF_JWT_AUDIENCE)
      .setIssuer(ISSUER)
      .sign(new TextEncoder().encode(SECRET));
    await expect(connectClient(main.url, forever)).rejects.toThrow("Connection rejected by server");
    expect((await http(main.url, forever).get("/user")).status).toBe(401);
    expect((await http(proxy.url, forever).get("/user")).status).toBe(401);
  });

  it("one proxy client filling its own room cap does not use up the proxy's rooms on main for everybody else", async () => {
    const mallory = await client(proxy.url, await token([], "mallory"));
    const acks = await Promise.all(Array.from({ length: ROOM_CAP }, (_, i) => mallory.subscribe(`/fleets/junk-${i}/state`)));
    expect(acks.every((a) => a.success)).toBe(true);
    const alice = await client(proxy.url, await token([], "alice"));
    expect(await alice.subscribe("/fleets/real/state")).toEqual({ success: true, error: "" });
  });

  it("many proxy clients subscribing at once are not refused with main's per-socket rate", async () => {
    const crowd = await Promise.all(Array.from({ length: 4 }, async (_, i) => client(proxy.url, await token([], `crowd-${i}`))));
    const acks = await Promise.all(crowd.flatMap((c, i) => Array.from({ length: ROOM_CAP / 2 }, (_, j) => c.subscribe(`/fleets/crowd-${i}-${j}/log`))));
    expect(acks.filter((a) => !a.success)).toEqual([]);
  });

  it("the proxy forwards REST to main only, whatever the request target says (no open relay, not even for the public /time)", async () => {
    const hits: string[] = [];
    const elsewhere = nodeHttp.createServer((req, res) => {
      hits.push(`${req.method} ${req.url} auth=${req.headers.authorization ?? ""}`);
      res.end("1");
    });
    await new Promise<void>((r) => elsewhere.listen(0, "127.0.0.1", r));
    const port = (elsewhere.address() as net.AddressInfo).port;
    const jwt = await token([], "mallory");
    const raw = (target: string, auth = false) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(proxy.port, "127.0.0.1", () =>
          s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${auth ? `Authorization: Bearer ${jwt}\r\n` : ""}\r\n`),
        );
        let out = "";
        s.on("data", (d) => (out += d.toString()));
        s.on("end", () => resolve(out));
        s.on("error", reject);
      });
    try {
      for (const target of [`//127.0.0.1:${port}/time`, `http://127.0.0.1:${port}/time`, `/x/..//127.0.0.1:${port}/time`]) {
        await raw(target);
        await raw(target.replace("/time", "/user"), true);
      }
      // Every answer came back before this line, so every forwarded request has arrived somewhere.
      expect(hits).toEqual([]);
      expect((await http(proxy.url).get("/time")).status).toBe(200);
    } finally {
      await new Promise<void>((r) => elsewhere.close(() => r()));
    }
  });

  it("a fleet adapter within its message rate but sending huge frames loses its excess bytes, before parsing; other adapters carry on", async () => {
    const { main: small, testDb: db } = await startTestMain({ internalBytesPerSec: 1, internalBytesBurst: 40_000 });
    try {
      const robots = (n: number, x: number): FleetState["robots"] =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}`, { name: `r${i}`, status: "idle", task_id: "", unix_millis_time: 1, location: { map: "L1", x, y: 0, yaw: 0 }, battery: 1, issues: [], commission: null, mutex_groups: null }]));
      const heavy = await openFeed(small.url, INTERNAL_PATH);
      // ~10 kB a frame: at most four fit the 40 kB burst.
      for (let x = 1; x <= 10; x++) heavy.send({ type: "fleet_state_update", data: { name: "heavy", robots: robots(60, x) } });
      await eventually(() => heavy.received.some((n) => String(n.error).includes("bytes/s")), "byte-rate notice");
      const calm = await openFeed(small.url, INTERNAL_PATH);
      calm.send({ type: "fleet_state_update", data: { name: "calm", robots: robots(1, 7) } });
      await eventually(() => small.state.stickyOf("fleet_state", "calm") !== undefined, "calm adapter served");
      const stored = small.state.stickyOf("fleet_state", "heavy") as FleetState;
      expect(stored.robots?.r0?.location?.x).toBeLessThan(10);
      heavy.close();
      calm.close();
    } finally {
      await small.close();
      await db.close();
    }
  });
});
