import { createServer } from "node:http";
import { Server } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryDescription } from "../../../contracts/rmf";
import type { RmfMain } from "../../../services/rmf/main/server";
import type { RmfProxy } from "../../../services/rmf/proxy/proxy";
import { eventually, ISSUER, SECRET } from "../../../services/rmf/testkit";
import { UpstreamHealth } from "../health";
import { createRobotsConnector, createRmfClient, createRobotsStore, createTokenCache, type RobotsConnector } from ".";
import { startRmfTestSite, type RmfTestSite } from "../../../services/rmf/test-site";

/**
 * The robots connector against the real thing: RMF main, a fan-out proxy (what the console
 * reads through) and the fleet simulator, over real sockets. Commands go to main.
 */
const WAIT = 30_000;
const delivery: DeliveryDescription = {
  pickup: { place: "supplies", handler: "coke_dispenser", payload: [{ sku: "coke", quantity: 1 }] },
  dropoff: { place: "storage", handler: "coke_ingestor", payload: [{ sku: "coke", quantity: 1 }] },
};

let site: RmfTestSite;
let main: RmfMain;
let proxy: RmfProxy;
let robots: RobotsConnector;
const health = new UpstreamHealth();
const store = createRobotsStore(4096);
const mint = createTokenCache({ secret: SECRET, issuer: ISSUER });

beforeAll(async () => {
  site = await startRmfTestSite();
  ({ main, proxy } = site);
  robots = createRobotsConnector({ client: createRmfClient({ baseUrl: proxy.url, mainUrl: main.url, mint }), health, store, downAfterMs: 1500, minBackoffMs: 100, maxBackoffMs: 400, taskRelistMs: 500 });
  await robots.view.ready;
}, 60_000);

afterAll(async () => {
  await robots?.close();
  await site?.close();
});

describe("the robots connector", () => {
  it("lists over REST, subscribes per item through the proxy and keeps every kind in the store", async () => {
    await eventually(() => store.robots.size === 2 && store.doors.size === 2 && store.lifts.size === 1 && store.map.size === 1, "fleet, doors, lift and map in the store", WAIT);
    await eventually(() => [...store.doors.values()].every((d) => d.state !== null && d.level !== null) && [...store.lifts.values()].every((l) => l.state !== null), "door and lift states", WAIT);
    expect([...store.fleets.values()].map((f) => f.robots.length)).toEqual([2]);
    const robot = [...store.robots.values()][0]!;
    expect(robot.location?.map).toMatch(/^L[12]$/);
    expect(robot.key).toBe(`${robot.fleet}/${robot.name}`);
    expect(health.get("robots")).toMatchObject({ state: "connected", url: proxy.url });
    expect(robots.view.status()).toMatchObject({ synced: true, connected: true, rejectedEvents: 0 });
  });

  it("sends a delivery to main and follows the task to completed while the robot moves", async () => {
    const answer = await robots.client.dispatchTask("operator@example.com", { category: "delivery", description: delivery, requester: "operator@example.com" });
    expect(answer.success).toBe(true);
    const taskId = answer.success ? answer.state.booking.id : "";
    await robots.view.trackTask(taskId);
    await eventually(() => Boolean(store.tasks.get(taskId)?.assigned_to), "task assigned", WAIT);
    const robotKey = `${store.tasks.get(taskId)!.assigned_to!.group}/${store.tasks.get(taskId)!.assigned_to!.name}`;
    const start = store.robots.get(robotKey)!.location!;
    await eventually(() => {
      const at = store.robots.get(robotKey)?.location;
      return Boolean(at && Math.hypot(at.x - start.x, at.y - start.y) > 1);
    }, "robot moved", WAIT);
    await eventually(() => store.tasks.get(taskId)?.status === "completed", "task completed", 60_000);
    expect(Object.keys(store.tasks.get(taskId)!.phases ?? {}).length).toBeGreaterThan(1);
    const log = await robots.client.taskLog(taskId);
    expect(log.task_id).toBe(taskId);
    // The completion raised an alert on /alerts/requests.
    await eventually(() => [...store.alerts.values()].some((a) => a.task_id === taskId), "completion alert", WAIT);
  }, 90_000);

  it("sees a task dispatched by someone else through the relisting", async () => {
    const answer = await robots.client.dispatchTask("someone", { category: "patrol", description: { places: ["pantry"], rounds: 1 } });
    const taskId = answer.success ? answer.state.booking.id : "";
    await eventually(() => store.tasks.has(taskId), "foreign task listed", WAIT);
  });

  it("opens a door on request and sees the door's state change", async () => {
    await robots.client.doorRequest("operator@example.com", "main_door", { mode: 2 });
    await eventually(() => store.doors.get("main_door")?.state?.current_mode.value === 2, "door open", WAIT);
    await robots.client.doorRequest("operator@example.com", "main_door", { mode: 0 });
    await eventually(() => store.doors.get("main_door")?.state?.current_mode.value === 0, "door closed", WAIT);
  });

  it("answers a refused command with main's words and fields", async () => {
    const wrong = await robots.client.dispatchTask("x", { category: "delivery", description: { pickup: { place: "nowhere", handler: "h", payload: [] }, dropoff: delivery.dropoff } }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 400, code: "rejected" });
    const malformed = await robots.client.doorRequest("x", "main_door", { mode: 5 as 0 }).catch((e: unknown) => e);
    expect(malformed).toMatchObject({ status: 422, fields: [{ path: "mode" }] });
    const unknown = await robots.client.doorRequest("x", "no_such_door", { mode: 2 }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 404 });
  });

  it("re-subscribes everything after the proxy restarts, and the robots keep moving", async () => {
    const before = robots.view.status().snapshots;
    proxy = await site.restartProxy();
    await eventually(() => robots.view.status().snapshots > before, "listed and subscribed again", WAIT);
    await eventually(() => health.get("robots")?.state === "connected", "link back", WAIT);
    const key = [...store.robots.values()][0]!.key;
    const at = store.robots.get(key)!.unix_millis_time ?? 0;
    await eventually(() => (store.robots.get(key)?.unix_millis_time ?? 0) > at, "fresh robot state after the reconnect", WAIT);
  }, 60_000);
});

describe("against a server that never acks and breaks the contract (rmf-web's habits)", () => {
  it("counts the broken event, keeps the good ones, and is refused with a wrong secret", async () => {
    const httpServer = createServer((req, res) => {
      const routes: Record<string, unknown> = { "/fleets": [{ name: "f", robots: {} }], "/doors": [], "/lifts": [], "/tasks": [], "/alerts/unresponded_requests": [] };
      const path = (req.url ?? "").split("?")[0]!;
      res.writeHead(path in routes ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(path in routes ? routes[path] : { detail: "Not Found" }));
    });
    const io = new Server(httpServer);
    io.on("connection", (socket) => {
      socket.on("subscribe", ({ room }: { room: string }) => {
        if (room !== "/fleets/f/state") return;
        socket.emit(room, { name: "f", robots: { r1: { name: "r1", battery: 7 } } });
        socket.emit(room, { name: "f", robots: { r1: { name: "r1", battery: 0.5, status: "idle" } } });
      });
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`;
    const own = createRobotsStore(64);
    const fake = createRobotsConnector({ client: createRmfClient({ baseUrl: url, mainUrl: url, mint }), health: new UpstreamHealth(), store: own, minBackoffMs: 100 });
    try {
      await eventually(() => own.robots.get("f/r1")?.battery === 0.5, "the good fleet state", WAIT);
      expect(fake.view.status().rejectedEvents).toBe(1);
    } finally {
      await fake.close();
      await io.close();
    }
  }, 30_000);

  it("stays off the socket when the upstream refuses the token", async () => {
    const h = new UpstreamHealth();
    const bad = createRobotsConnector({ client: createRmfClient({ baseUrl: proxy.url, mainUrl: main.url, mint: createTokenCache({ secret: "another-secret-0123456789abc", issuer: ISSUER }) }), health: h, store: createRobotsStore(64), downAfterMs: 300, minBackoffMs: 100 });
    try {
      await eventually(() => h.get("robots")?.state === "down", "link down", WAIT);
      expect(h.get("robots")?.detail).toMatch(/rejected/i);
      expect(bad.view.status().synced).toBe(false);
    } finally {
      await bad.close();
    }
  });
});
