import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, can } from "../../../../contracts/console/permissions";
import { createTestDb, type TestDb } from "../../../../lib/testing/db";
import { startRmfTestSite, type RmfTestSite } from "../../../../services/rmf/test-site";
import { eventually, ISSUER, SECRET } from "../../../../services/rmf/testkit";
import { commandFeed, isFinal, type CommandView } from "../../../commands/command-feed";
import { createRmfClient, createRobotsConnector, createRobotsStore, createTokenCache, type RobotsConnector } from "../../../connectors/rmf";
import { UpstreamHealth } from "../../../connectors/health";
import { registerConnector, unregisterConnector } from "../../../connectors/kit/registry";
import { createTestUser, makeContext } from "../../../testing/context";
import { createCallerFactory, type SessionUser } from "../../init";
import { appRouter } from "../_app";

/**
 * The robots routers through the real router (createCallerFactory + a hand-built context, a
 * real console database) against a real RMF main, proxy and simulated fleet.
 */
const WAIT = 30_000;
let site: RmfTestSite;
let consoleDb: TestDb;
let robots: RobotsConnector;
const store = createRobotsStore(4096);
const users = {} as Record<(typeof ROLES)[number], SessionUser>;
const createCaller = createCallerFactory(appRouter);
const as = (user: SessionUser) => createCaller(makeContext(consoleDb.db, user));
const outcomes = new Map<string, CommandView>();
const outcomeOf = async (id: string) => {
  await eventually(() => Boolean(outcomes.get(id) && isFinal(outcomes.get(id)!.status)), `outcome of ${id}`, WAIT);
  return outcomes.get(id)!;
};
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
let keyN = 0;
const key = () => `test-key-${++keyN}-${Date.now()}`;
const delivery = { category: "delivery" as const, pickup: { place: "supplies", handler: "coke_dispenser" }, dropoff: { place: "storage", handler: "coke_ingestor" }, sku: "coke", quantity: 1 };

beforeAll(async () => {
  [site, consoleDb] = await Promise.all([startRmfTestSite(), createTestDb()]);
  robots = createRobotsConnector({
    client: createRmfClient({ baseUrl: site.proxy.url, mainUrl: site.main.url, mint: createTokenCache({ secret: SECRET, issuer: ISSUER }) }),
    health: new UpstreamHealth(),
    store,
    minBackoffMs: 100,
    taskRelistMs: 500,
  });
  await robots.view.ready;
  registerConnector(robots);
  commandFeed().listen((c) => c.data && outcomes.set(c.key, c.data as CommandView));
  for (const role of ROLES) users[role] = await createTestUser(consoleDb.db, role);
  await eventually(() => store.robots.size === 2 && store.map.size === 1 && [...store.doors.values()].every((d) => d.state), "site in the store", WAIT);
}, 60_000);

afterAll(async () => {
  unregisterConnector("robots");
  await robots?.close();
  await site?.close();
  await consoleDb?.close();
});

describe("robots routers", () => {
  it("streams robots, map, doors, lifts and tasks to every role that may read them", async () => {
    for (const role of ROLES) {
      const it = (await as(users[role]).robots.onRobots().catch((e: unknown) => e)) as AsyncIterable<unknown> | TRPCError;
      if (!can(role, "robots.read")) {
        expect(it).toBeInstanceOf(TRPCError);
        continue;
      }
      const iterator = (it as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      const first = (await iterator.next()).value as [string, { kind: string; items: { key: string }[] }];
      expect(first[1].kind).toBe("snapshot");
      expect(first[1].items).toHaveLength(2);
      await iterator.return?.();
    }
    const caller = as(users.viewer);
    const site = (await caller.robots.onSite())[Symbol.asyncIterator]();
    const snapshot = ((await site.next()).value as unknown as [string, { kind: string; items: { kind: string }[] }])[1];
    expect(snapshot.kind).toBe("snapshot");
    expect(new Set(snapshot.items.map((i) => i.kind))).toEqual(new Set(["map", "fleet", "door", "lift"]));
    await site.return?.();
    const tasks = (await caller.robots.tasks.onChange())[Symbol.asyncIterator]();
    expect(((await tasks.next()).value as unknown as [string, { kind: string }])[1].kind).toBe("snapshot");
    await tasks.return?.();
    const options = await caller.robots.tasks.dispatchOptions();
    expect(options.places.map((p) => p.name)).toEqual(expect.arrayContaining(["supplies", "storage", "pantry"]));
    expect(options.dispensers).toEqual(["coke_dispenser"]);
    expect(options.ingestors).toEqual(["coke_ingestor"]);
  });

  it("dispatches a delivery as an operator through the command path, and follows it to completed", async () => {
    const { command } = await as(users.operator).robots.tasks.dispatch({ ...delivery, idempotencyKey: key() });
    expect(command).toMatchObject({ domain: "robots", action: "dispatch_delivery", status: "accepted" });
    const taskId = (command.result as { taskId: string }).taskId;
    const task = await as(users.viewer).robots.tasks.get({ taskId });
    expect(task.category).toBe("delivery");
    await eventually(() => store.tasks.get(taskId)?.status === "completed", "delivery completed", 60_000);
    const log = await as(users.viewer).robots.tasks.log({ taskId });
    expect(log.task_id).toBe(taskId);
    const audit = await consoleDb.db.auditEntry.findMany({ where: { action: { contains: "dispatch" } } });
    expect(audit.length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it("refuses a viewer and a trader before anything is stored or sent", async () => {
    const before = await consoleDb.db.command.count();
    expect(await codeOf(as(users.viewer).robots.tasks.dispatch({ ...delivery, idempotencyKey: key() }))).toBe("FORBIDDEN");
    expect(await codeOf(as(users.trader).robots.doors.request({ door: "main_door", mode: "open", idempotencyKey: key() }))).toBe("FORBIDDEN");
    expect(await codeOf(as(users.viewer).robots.tasks.cancel({ taskId: "x", idempotencyKey: key() }))).toBe("FORBIDDEN");
    expect(await consoleDb.db.command.count()).toBe(before);
  });

  it("answers bad input with BAD_REQUEST and a field, and sends nothing", async () => {
    const before = await consoleDb.db.command.count();
    const tasksBefore = store.tasks.size;
    const caller = as(users.support);
    const wrongPlace = await caller.robots.tasks.dispatch({ ...delivery, pickup: { place: "nowhere", handler: "coke_dispenser" }, idempotencyKey: key() }).catch((e: unknown) => e);
    expect(wrongPlace).toMatchObject({ code: "BAD_REQUEST", field: "pickup.place" });
    expect(await codeOf(caller.robots.tasks.dispatch({ category: "patrol", places: [], rounds: 1, idempotencyKey: key() }))).toBe("BAD_REQUEST");
    expect(await codeOf(caller.robots.tasks.dispatch({ ...delivery, quantity: 0, idempotencyKey: key() }))).toBe("BAD_REQUEST");
    expect(await codeOf(caller.robots.tasks.dispatch({ category: "teleport", idempotencyKey: key() } as never))).toBe("BAD_REQUEST");
    expect(await codeOf(caller.robots.lifts.request({ lift: "Lift1", destination: "L9", idempotencyKey: key() }))).toBe("BAD_REQUEST");
    expect(await codeOf(caller.robots.doors.request({ door: "no_such_door", mode: "open", idempotencyKey: key() }))).toBe("NOT_FOUND");
    expect(await codeOf(caller.robots.tasks.get({ taskId: "no-such-task" }))).toBe("NOT_FOUND");
    expect(await codeOf(caller.robots.tasks.get({ taskId: "a/b" }))).toBe("NOT_FOUND");
    expect(await consoleDb.db.command.count()).toBe(before);
    expect(store.tasks.size).toBe(tasksBefore);
  });

  it("needs a confirmation to kill, cancels and kills as support, and refuses a finished task", async () => {
    const caller = as(users.support);
    const patrol = async () => {
      const { command } = await caller.robots.tasks.dispatch({ category: "patrol", places: ["hall", "pantry"], rounds: 3, idempotencyKey: key() });
      return (command.result as { taskId: string }).taskId;
    };
    const first = await patrol();
    expect(await codeOf(caller.robots.tasks.kill({ taskId: first, idempotencyKey: key() }))).toBe("BAD_REQUEST");
    const killed = await caller.robots.tasks.kill({ taskId: first, idempotencyKey: key(), confirm: true });
    expect((await outcomeOf(killed.command.id)).status).toBe("accepted");
    await eventually(() => store.tasks.get(first)?.status === "killed", "task killed", WAIT);
    expect(await codeOf(caller.robots.tasks.cancel({ taskId: first, idempotencyKey: key() }))).toBe("CONFLICT");
    const second = await patrol();
    const canceled = await caller.robots.tasks.cancel({ taskId: second, idempotencyKey: key() });
    expect((await outcomeOf(canceled.command.id)).status).toBe("accepted");
    await eventually(() => store.tasks.get(second)?.status === "canceled", "task canceled", WAIT);
  }, 60_000);

  it("opens and closes a door and calls the lift as an operator", async () => {
    const caller = as(users.operator);
    const open = await caller.robots.doors.request({ door: "lab_door", mode: "open", idempotencyKey: key() });
    expect((await outcomeOf(open.command.id)).status).toBe("accepted");
    await eventually(() => store.doors.get("lab_door")?.state?.current_mode.value === 2, "door open", WAIT);
    const close = await caller.robots.doors.request({ door: "lab_door", mode: "close", idempotencyKey: key() });
    expect((await outcomeOf(close.command.id)).status).toBe("accepted");
    const lift = store.lifts.get("Lift1")!;
    const other = lift.state!.available_floors.find((f) => f !== lift.state!.current_floor)!;
    const call = await caller.robots.lifts.request({ lift: "Lift1", destination: other, idempotencyKey: key() });
    expect((await outcomeOf(call.command.id)).status).toBe("accepted");
    await eventually(() => store.lifts.get("Lift1")?.state?.destination_floor === other || store.lifts.get("Lift1")?.state?.current_floor === other, "lift going there", WAIT);
  });

  it("answers an alert with one of its responses, once", async () => {
    await eventually(() => [...store.alerts.values()].some((a) => !a.response && a.responses_available.length > 0), "an open alert (from the completed delivery)", WAIT);
    const alert = [...store.alerts.values()].find((a) => !a.response && a.responses_available.length > 0)!;
    const caller = as(users.operator);
    expect(await codeOf(caller.robots.alerts.respond({ alertId: alert.id, response: "Nope", idempotencyKey: key() }))).toBe("BAD_REQUEST");
    const answered = await caller.robots.alerts.respond({ alertId: alert.id, response: alert.responses_available[0]!, idempotencyKey: key() });
    expect((await outcomeOf(answered.command.id)).status).toBe("accepted");
    await eventually(() => store.alerts.get(alert.id)?.response !== null, "alert answered", WAIT);
    expect(await codeOf(caller.robots.alerts.respond({ alertId: alert.id, response: alert.responses_available[0]!, idempotencyKey: key() }))).toBe("CONFLICT");
  });
});
