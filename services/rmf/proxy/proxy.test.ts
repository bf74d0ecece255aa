import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INTERNAL_PATH, type FleetState } from "../../../contracts/rmf";
import { logger } from "../../../lib/log";
import type { TestDb } from "../../../lib/testing/db";
import { startMain, type RmfMain } from "../main/server";
import { connectClient, eventually, http, INTERNAL_TOKEN, ISSUER, openFeed, SECRET, startTestMain, token, type TestClient } from "../testkit";
import { startProxy, type RmfProxy } from "./proxy";

let main: RmfMain;
let testDb: TestDb;
let proxy: RmfProxy;
let adapter: Awaited<ReturnType<typeof openFeed>>;
const clients: TestClient[] = [];
const laterDbs: TestDb[] = [];
const client = async (url = proxy.url) => {
  const c = await connectClient(url, await token());
  clients.push(c);
  return c;
};
const fleet = (name: string, x: number): FleetState & { name: string } => ({
  name,
  robots: { r1: { name: "r1", status: "idle", task_id: "", unix_millis_time: Date.now(), location: { map: "L1", x, y: 0, yaw: 0 }, battery: 1, issues: [], commission: null, mutex_groups: null } },
});
const taskState = (id: string) => {
  const data = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "..", "fixtures", "internal", "task_state_update.json"), "utf8")).data;
  return { ...data, booking: { ...data.booking, id } };
};
const xOf = (payload: unknown) => (payload as FleetState).robots?.r1?.location?.x;

beforeAll(async () => {
  ({ main, testDb } = await startTestMain());
  proxy = await startProxy({ port: 0, mainUrl: main.url, jwtSecret: SECRET, jwtIssuer: ISSUER, log: logger(), subscribeTimeoutMs: 3000 });
  adapter = await openFeed(main.url, INTERNAL_PATH);
  await eventually(() => proxy.upstreamConnected(), "proxy connected");
});
afterAll(async () => {
  for (const c of clients) c.close();
  adapter?.close();
  await proxy?.close();
  await main?.close();
  await testDb?.close();
  for (const db of laterDbs) await db.close();
});

describe("RMF proxy", () => {
  it("refuses clients without a valid token", async () => {
    await expect(connectClient(proxy.url, "junk")).rejects.toThrow("Connection rejected by server");
    expect((await http(proxy.url).get("/fleets")).status).toBe(401);
  });

  it("holds one upstream subscription per room however many clients subscribe, and serves the sticky value from its cache", async () => {
    adapter.send({ type: "fleet_state_update", data: fleet("shared", 1) });
    await eventually(() => main.state.stickyOf("fleet_state", "shared") !== undefined, "fleet stored on main");
    const many = await Promise.all(Array.from({ length: 8 }, () => client()));
    const acks = await Promise.all(many.map((c) => c.subscribe("/fleets/shared/state")));
    expect(acks.every((a) => a.success)).toBe(true);
    expect(many.every((c) => xOf(c.of("/fleets/shared/state")[0]) === 1)).toBe(true);
    expect(main.roomSize("/fleets/shared/state")).toBe(1);
    expect(proxy.upstreamRoom("/fleets/shared/state")).toEqual({ refs: 8, status: "live" });
    adapter.send({ type: "fleet_state_update", data: fleet("shared", 2) });
    await eventually(() => many.every((c) => xOf(c.of("/fleets/shared/state").at(-1)) === 2), "update fanned out");
    // Repeated subscribe on one socket: still one ref, a fresh snapshot.
    await many[0].subscribe("/fleets/shared/state");
    expect(proxy.upstreamRoom("/fleets/shared/state")).toEqual({ refs: 8, status: "live" });
    expect(xOf(many[0].of("/fleets/shared/state").at(-1))).toBe(2);
    for (const c of many) await c.unsubscribe("/fleets/shared/state");
    await eventually(() => main.roomSize("/fleets/shared/state") === 0, "upstream released");
    expect(proxy.upstreamRoom("/fleets/shared/state")).toBeUndefined();
  });

  it("passes main's refusals on and subscribes nothing", async () => {
    const c = await client();
    expect(await c.subscribe("/doors/none/state")).toEqual({ success: false, error: "404 Not Found" });
    expect(await c.subscribe("/bogus")).toEqual({ success: false, error: "404 Not Found" });
    expect(proxy.upstreamRoom("/doors/none/state")).toBeUndefined();
  });

  it("forwards REST to main with the caller's token", async () => {
    adapter.send({ type: "fleet_state_update", data: fleet("rest", 5) });
    await eventually(() => main.state.stickyOf("fleet_state", "rest") !== undefined, "stored");
    const api = http(proxy.url, await token());
    expect((await api.get("/fleets/rest/state")).json).toMatchObject({ name: "rest" });
    expect((await http(proxy.url, await token([])).get("/tasks")).status).toBe(403);
    expect((await api.post("/tasks/dispatch_task", { type: "dispatch_task_request" })).status).toBe(422);
    expect(Number.isInteger((await http(proxy.url).get("/time")).json)).toBe(true);
  });

  it("re-subscribes everything after main restarts and clients get fresh snapshots without doing anything", async () => {
    adapter.send({ type: "fleet_state_update", data: fleet("survivor", 1) });
    await eventually(() => main.state.stickyOf("fleet_state", "survivor") !== undefined, "stored");
    const c = await client();
    await c.subscribe("/fleets/survivor/state");
    await main.flush();
    adapter.close();
    await main.close();
    await eventually(() => !proxy.upstreamConnected(), "proxy noticed");
    // While main is away, a new client still gets the cached value.
    const meanwhile = await client();
    expect(await meanwhile.subscribe("/fleets/survivor/state")).toEqual({ success: true, error: "" });
    expect(xOf(meanwhile.of("/fleets/survivor/state")[0])).toBe(1);

    main = await startMain({ port: main.port, db: testDb.db, jwtSecret: SECRET, jwtIssuer: ISSUER, internalToken: INTERNAL_TOKEN, log: logger() });
    await eventually(() => proxy.upstreamConnected() && main.roomSize("/fleets/survivor/state") === 1, "proxy re-subscribed");
    const before = c.of("/fleets/survivor/state").length;
    await eventually(() => c.of("/fleets/survivor/state").length > before || xOf(c.of("/fleets/survivor/state").at(-1)) === 1, "fresh snapshot");
    adapter = await openFeed(main.url, INTERNAL_PATH);
    adapter.send({ type: "fleet_state_update", data: fleet("survivor", 9) });
    await eventually(() => xOf(c.of("/fleets/survivor/state").at(-1)) === 9 && xOf(meanwhile.of("/fleets/survivor/state").at(-1)) === 9, "live again");
    expect(c.socket.connected).toBe(true);
  });

  it("disconnects the clients of a room main refuses after a restart, so they subscribe again and read why instead of waiting in silence", async () => {
    adapter.send({ type: "task_state_update", data: taskState("t-vanishing") });
    await eventually(() => main.state.taskInMemory("t-vanishing") !== undefined, "task stored on main");
    const watcher = await client();
    const bystander = await client();
    expect(await watcher.subscribe("/tasks/t-vanishing/state")).toEqual({ success: true, error: "" });
    await bystander.subscribe("/fleets/survivor/state");
    await main.flush();
    adapter.close();
    await main.close();
    await eventually(() => !proxy.upstreamConnected(), "proxy noticed");
    // Main comes back on an empty database: it has never heard of the task.
    const port = main.port;
    const fresh = await startTestMain({ port });
    main = fresh.main;
    await eventually(() => proxy.upstreamConnected(), "proxy reconnected");
    await eventually(() => !watcher.socket.connected, "watcher disconnected");
    expect(proxy.upstreamRoom("/tasks/t-vanishing/state")).toBeUndefined();
    expect(bystander.socket.connected).toBe(true);
    const again = await client();
    expect(await again.subscribe("/tasks/t-vanishing/state")).toEqual({ success: false, error: "404 Not Found" });
    adapter = await openFeed(main.url, INTERNAL_PATH);
    laterDbs.push(fresh.testDb);
  });
});
