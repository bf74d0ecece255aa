import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INTERNAL_PATH, type AlertRequest, type FleetState, type TaskState } from "../../../contracts/rmf";
import { signToken } from "../lib/jwt";
import { connectClient, eventually, http, INTERNAL_TOKEN, ISSUER, openFeed, SECRET, startTestBridge, startTestMain, token, type TestClient } from "../testkit";
import { startMain, type RmfMain } from "./server";
import fs from "node:fs";
import path from "node:path";
import { logger } from "../../../lib/log";
import type { TestDb } from "../../../lib/testing/db";

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "..", "fixtures", name), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let main: RmfMain;
let testDb: TestDb;
let adapter: Awaited<ReturnType<typeof openFeed>>;
let bridge: Awaited<ReturnType<typeof startTestBridge>>;
let bridgeAnswer: (msg: Record<string, unknown>) => Record<string, unknown> | undefined = () => undefined;
const clients: TestClient[] = [];
const client = async (jwt?: string) => {
  const c = await connectClient(main.url, jwt ?? (await token()));
  clients.push(c);
  return c;
};
const fleet = (name: string, x: number, t = Date.now(), status = "idle"): FleetState & { name: string } => ({
  name,
  robots: { r1: { name: "r1", status: status as "idle", task_id: status === "working" ? "t-stuck" : "", unix_millis_time: t, location: { map: "L1", x, y: 0, yaw: 0 }, battery: 0.5, issues: [], commission: null, mutex_groups: null } },
});
const task = (id: string, status: string, extra: Record<string, unknown> = {}) => ({ ...fixture("internal/task_state_update.json").data, booking: { ...fixture("internal/task_state_update.json").data.booking, id }, status, ...extra });

beforeAll(async () => {
  ({ main, testDb } = await startTestMain({ commandTimeoutMs: 400, stuckAfterMs: 1000, limits: { maxRoomsPerSocket: 50 }, internalRatePerSec: 50, internalBurst: 50 }));
  adapter = await openFeed(main.url, INTERNAL_PATH);
  bridge = await startTestBridge(main, (msg) => bridgeAnswer(msg));
});
afterAll(async () => {
  for (const c of clients) c.close();
  adapter?.close();
  bridge?.close();
  await main?.close();
  await testDb?.close();
});

describe("RMF main: socket.io protocol", () => {
  it("refuses connections without a valid token, as rmf-web does", async () => {
    const wrongSecret = await signToken({ secret: "another-secret-0123456789abc", issuer: ISSUER, username: "x", permissions: [] });
    const wrongIssuer = await signToken({ secret: SECRET, issuer: "stub", username: "x", permissions: [] });
    for (const jwt of [undefined, "garbage", wrongSecret, wrongIssuer]) await expect(connectClient(main.url, jwt)).rejects.toThrow("Connection rejected by server");
  });

  it("acks subscribes to the requester only: missing room, unknown room, 404 for a door with no state", async () => {
    const a = await client();
    const b = await client();
    expect(await a.socket.timeout(5000).emitWithAck("subscribe", {})).toEqual({ success: false, error: "missing 'room'" });
    expect(await a.subscribe("/no/such/room")).toEqual({ success: false, error: "404 Not Found" });
    expect(await a.subscribe("/doors/ghost/state")).toEqual({ success: false, error: "404 Not Found" });
    expect(main.roomSize("/doors/ghost/state")).toBe(0);
    // Nothing was broadcast to the other socket.
    expect(b.events).toEqual([]);
  });

  it("subscribes to an unknown fleet and delivers its state once it arrives; sticky afterwards; no double subscription", async () => {
    const a = await client();
    expect(await a.subscribe("/fleets/alpha/state")).toEqual({ success: true, error: "" });
    adapter.send({ type: "fleet_state_update", data: fleet("alpha", 1) });
    await eventually(() => a.of("/fleets/alpha/state").length === 1, "alpha state delivered");
    expect(a.of("/fleets/alpha/state")[0]).toMatchObject({ name: "alpha", robots: { r1: { location: { x: 1 }, commission: null } } });
    const late = await client();
    expect(await late.subscribe("/fleets/alpha/state")).toEqual({ success: true, error: "" });
    expect(late.of("/fleets/alpha/state")).toHaveLength(1);
    // A repeated subscribe is a resync: a fresh snapshot, still one membership.
    expect(await late.subscribe("/fleets/alpha/state")).toEqual({ success: true, error: "" });
    expect(late.of("/fleets/alpha/state")).toHaveLength(2);
    expect(main.roomSize("/fleets/alpha/state")).toBe(2);
    expect(await late.unsubscribe("/fleets/alpha/state")).toEqual({ success: true, error: "" });
    expect(await late.unsubscribe("/fleets/alpha/state")).toEqual({ success: false, error: "not subscribed to topic" });
    adapter.send({ type: "fleet_state_update", data: fleet("alpha", 2) });
    await eventually(() => a.of("/fleets/alpha/state").length === 2, "second update");
    expect(late.of("/fleets/alpha/state")).toHaveLength(2);
  });

  it("URL-decodes rooms and names events by the decoded room", async () => {
    adapter.send({ type: "fleet_state_update", data: fleet("tiny Robot", 3) });
    await eventually(async () => (await http(main.url, await token()).get("/fleets/tiny%20Robot/state")).status === 200, "fleet stored");
    const a = await client();
    expect(await a.subscribe("/fleets/tiny%20Robot/state")).toEqual({ success: true, error: "" });
    expect(a.of("/fleets/tiny Robot/state")).toHaveLength(1);
  });

  it("enforces task_read on task rooms", async () => {
    adapter.send({ type: "task_state_update", data: task("t-perm", "underway") });
    await eventually(() => main.state.taskInMemory("t-perm") !== undefined, "task stored");
    const viewer = await client(await token([]));
    expect(await viewer.subscribe("/tasks/t-perm/state")).toEqual({ success: false, error: "403 Forbidden" });
    const reader = await client(await token(["task_read"]));
    expect(await reader.subscribe("/tasks/t-perm/state")).toEqual({ success: true, error: "" });
    expect(reader.of("/tasks/t-perm/state")[0]).toMatchObject({ booking: { id: "t-perm" }, status: "underway" });
    expect(await reader.subscribe("/tasks/never-seen/state")).toEqual({ success: false, error: "404 Not Found" });
  });

  it("caps the rooms one socket holds without disturbing other sockets", async () => {
    const greedy = await client();
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => greedy.subscribe(`/fleets/f${i}/state`)));
    expect(answers.filter((a) => a.success)).toHaveLength(50);
    expect(answers.filter((a) => a.error === "429 Too Many Rooms")).toHaveLength(10);
    const other = await client();
    expect(await other.subscribe("/fleets/f55/state")).toEqual({ success: true, error: "" });
  });

  it("coalesces a burst of fleet states but always ends on the latest", async () => {
    const a = await client();
    await a.subscribe("/fleets/bursty/state");
    for (let x = 1; x <= 20; x++) adapter.send({ type: "fleet_state_update", data: fleet("bursty", x) });
    await eventually(() => (a.of("/fleets/bursty/state").at(-1) as FleetState | undefined)?.robots?.r1?.location?.x === 20, "latest state delivered");
    expect(a.of("/fleets/bursty/state").length).toBeLessThanOrEqual(20);
  });
});

describe("RMF main: /_internal", () => {
  it("refuses adapters without the internal token", async () => {
    await expect(openFeed(main.url, INTERNAL_PATH, "wrong-token-0123456789")).rejects.toThrow("401");
  });

  it("answers malformed frames with a notice and stores nothing from them", async () => {
    const bad = await openFeed(main.url, INTERNAL_PATH);
    bad.send("{not json");
    bad.send({ type: "fleet_state_update", data: { name: "broken", robots: { r: { battery: 9 } } } });
    bad.send({ type: "no_such_type", data: {} });
    bad.send({ data: {} });
    await eventually(() => bad.received.length === 4, "four notices");
    expect(bad.received.every((n) => n.type === "error")).toBe(true);
    expect(String(bad.received[1].error)).toContain("battery");
    const fleets = (await http(main.url, await token()).get("/fleets")).json as FleetState[];
    expect(fleets.map((f) => f.name)).not.toContain("broken");
    // The connection stays usable.
    bad.send({ type: "fleet_state_update", data: fleet("after-bad", 1) });
    await eventually(async () => (await http(main.url, await token()).get("/fleets/after-bad/state")).status === 200, "valid frame after bad ones");
    bad.close();
  });

  it("throttles a flooding adapter and keeps serving the others", async () => {
    const noisy = await openFeed(main.url, INTERNAL_PATH);
    for (let i = 0; i < 500; i++) noisy.send({ type: "fleet_state_update", data: fleet("noisy", i) });
    await eventually(() => noisy.received.some((n) => String(n.error).startsWith("rate limited")), "rate-limit notice");
    adapter.send({ type: "fleet_state_update", data: fleet("calm", 7) });
    await eventually(async () => (await http(main.url, await token()).get("/fleets/calm/state")).status === 200, "calm adapter served");
    noisy.close();
  });

  it("derives completion alerts and durations from task states, and streams task logs", async () => {
    const a = await client();
    await a.subscribe("/alerts/requests");
    adapter.send({ type: "task_state_update", data: task("t-done", "underway") });
    await eventually(() => main.state.taskInMemory("t-done") !== undefined, "task stored");
    await a.subscribe("/tasks/t-done/log");
    adapter.send({ type: "task_log_update", data: { ...fixture("internal/task_log_update.json").data, task_id: "t-done" } });
    await eventually(() => a.of("/tasks/t-done/log").length === 1, "task log delta");
    adapter.send({ type: "task_state_update", data: task("t-done", "completed", { unix_millis_finish_time: 1700000061000 }) });
    adapter.send({ type: "task_state_update", data: task("t-fail", "failed", { dispatch: { status: "failed_to_assign", assignment: null, errors: [{ code: 3, category: "Rejected", detail: "No fleet" }] } }) });
    await eventually(() => a.of("/alerts/requests").length === 2, "two derived alerts");
    const [done, failed] = a.of("/alerts/requests") as AlertRequest[];
    expect(done).toMatchObject({ title: "Task completed", subtitle: "ID: t-done", tier: "info", responses_available: ["Acknowledge"], task_id: "t-done", display: true });
    expect(failed).toMatchObject({ title: "Task failed", tier: "error", task_id: "t-fail" });
    expect(failed.message).toContain("No fleet");
    // A repeated terminal state raises nothing new.
    adapter.send({ type: "task_state_update", data: task("t-done", "completed", { unix_millis_finish_time: 1700000061000 }) });
    const api = http(main.url, await token());
    const log = await api.get(`/tasks/t-done/log?between=0,${Date.now()}`);
    expect(log.status).toBe(200);
    expect(log.json).toEqual({ ...fixture("rooms/task_log.json"), task_id: "t-done" });
    const metrics = await (await fetch(`${main.url}/metrics`)).text();
    expect(metrics).toMatch(/rmf_task_duration_seconds_count\{category="patrol",status="completed"\} 1/);
    expect(a.of("/alerts/requests")).toHaveLength(2);
  });

  it("flags a robot working without moving as stuck: an issue and one alert", async () => {
    const a = await client();
    await a.subscribe("/alerts/requests");
    await a.subscribe("/fleets/stuckbot/state");
    const t0 = Date.now();
    for (const dt of [0, 500, 1500, 2500]) adapter.send({ type: "fleet_state_update", data: fleet("stuckbot", 4, t0 + dt, "working") });
    await eventually(() => a.of("/alerts/requests").some((x) => (x as AlertRequest).title === "Robot stuck"), "stuck alert");
    await eventually(() => ((a.of("/fleets/stuckbot/state").at(-1) as FleetState)?.robots?.r1?.issues ?? []).some((i) => i.category === "stuck"), "stuck issue");
    expect(a.of("/alerts/requests").filter((x) => (x as AlertRequest).title === "Robot stuck")).toHaveLength(1);
  });
});

describe("RMF main: the RMF bridge", () => {
  it("refuses a bridge without the token and answers malformed frames without storing them", async () => {
    await expect(openFeed(main.url, "/_bridge", "wrong-token-0123456789")).rejects.toThrow("401");
    const b = await openFeed(main.url, "/_bridge");
    b.send("nope");
    b.send({ op: "publish", topic: "no_such_topic", msg: {} });
    b.send({ op: "publish", topic: "door_states", msg: { door_name: "half" } });
    b.send({ op: "publish", topic: "door_states", msg: { ...fixture("rooms/door_state.json"), door_name: "a/b" } });
    await eventually(() => b.received.length === 4, "four status frames");
    expect(b.received.every((f) => f.op === "status" && f.level === "error")).toBe(true);
    expect(main.state.stickyOf("door_state", "half")).toBeUndefined();
    b.close();
  });
});

describe("RMF main: REST", () => {
  it("answers 401 without a token, 403 without the permission, and serves /time publicly", async () => {
    expect((await http(main.url).get("/fleets")).status).toBe(401);
    expect((await http(main.url, "nonsense").get("/fleets")).json).toEqual({ detail: "Invalid token" });
    expect((await http(main.url, await token([])).get("/tasks")).status).toBe(403);
    expect((await http(main.url, await token(["task_read"])).post("/tasks/dispatch_task", fixture("rest/dispatch_task_request.json"))).status).toBe(403);
    expect((await http(main.url, await token([])).get("/admin/users")).status).toBe(403);
    const time = await http(main.url).get("/time");
    expect(Number.isInteger(time.json)).toBe(true);
  });

  it("dispatches through RMF: 422 for malformed bodies, 400 when RMF refuses, 200 with the state (stored), 500 when RMF is silent", async () => {
    const api = http(main.url, await token());
    const bad = await api.post("/tasks/dispatch_task", { type: "dispatch_task_request", request: { description: {} } });
    expect(bad.status).toBe(422);
    expect(bad.json.detail[0]).toMatchObject({ type: "missing", loc: ["body", "request", "category"], msg: "Field required" });
    expect((await api.post("/tasks/dispatch_task", "{oops")).status).toBe(422);

    bridgeAnswer = () => fixture("rest/dispatch_task_response_400.json");
    const refused = await api.post("/tasks/dispatch_task", fixture("rest/dispatch_task_request.json"));
    expect(refused).toEqual({ status: 400, json: fixture("rest/dispatch_task_response_400.json") });

    const accepted = { ...fixture("rest/dispatch_task_response_200.json"), state: { ...fixture("rest/dispatch_task_response_200.json").state, booking: { ...fixture("rest/dispatch_task_response_200.json").state.booking, id: "rest-1" } } };
    bridgeAnswer = () => accepted;
    const ok = await api.post("/tasks/dispatch_task", fixture("rest/dispatch_task_request.json"));
    expect(ok).toEqual({ status: 200, json: accepted });
    expect(bridge.calls.at(-1)).toEqual(fixture("rest/dispatch_task_request.json"));
    expect((await api.get("/tasks/rest-1/state")).json).toEqual(accepted.state);
    expect((await api.get("/tasks/rest-1/request")).json).toEqual(fixture("rest/dispatch_task_request.json").request);
    const listed = await api.get("/tasks?task_id=rest-1,nope&status=underway&limit=5");
    expect(listed.json.map((t: TaskState) => t.booking.id)).toEqual(["rest-1"]);
    expect((await api.get("/tasks?order_by=-bogus")).status).toBe(422);
    expect((await api.get("/tasks?limit=5000")).status).toBe(422);

    bridgeAnswer = () => undefined;
    expect(await api.post("/tasks/dispatch_task", fixture("rest/dispatch_task_request.json"))).toEqual({ status: 500, json: { detail: "rmf service timed out" } });
  });

  it("answers task commands with RMF's answer at HTTP 200, unknown tasks without asking RMF", async () => {
    const api = http(main.url, await token());
    const calls = bridge.calls.length;
    expect(await api.post("/tasks/cancel_task", fixture("rest/cancel_task_request.json"))).toEqual({ status: 200, json: fixture("rest/cancel_task_response_fail_http200.json") });
    expect(bridge.calls.length).toBe(calls);
    bridgeAnswer = () => ({ success: true });
    expect(await api.post("/tasks/cancel_task", { type: "cancel_task_request", task_id: "rest-1" })).toEqual({ status: 200, json: { success: true } });
    expect((await http(main.url, await token(["task_read", "task_submit"])).post("/tasks/kill_task", { type: "kill_task_request", task_id: "rest-1" })).status).toBe(403);
  });

  it("refuses commands for unknown robots, doors and lifts; forwards known ones to the owning bridge", async () => {
    const api = http(main.url, await token());
    expect((await api.post("/tasks/robot_task", fixture("rest/robot_task_request.json"))).status).toBe(404);
    expect((await api.post("/doors/ghost/request", { mode: 2 })).status).toBe(404);
    expect((await api.post("/lifts/ghost/request", fixture("rest/lift_request.json"))).status).toBe(404);
    const admin = http(main.url, await token(["admin"]));
    expect((await admin.post("/fleets/ghost/decommission?robot_name=r&reassign_tasks=true&allow_idle_behavior=false")).status).toBe(404);
    expect((await admin.post("/fleets/alpha/decommission?robot_name=r1")).status).toBe(422);
    expect((await api.post("/fleets/alpha/decommission?robot_name=r1&reassign_tasks=true&allow_idle_behavior=false")).status).toBe(403);
    bridge.publish("door_states", fixture("rooms/door_state.json"));
    bridge.publish("lift_states", fixture("rooms/lift_state.json"));
    bridge.publish("map", fixture("rooms/building_map.json"));
    await eventually(async () => (await api.get("/lifts/Lift1/state")).status === 200, "lift state stored");
    expect((await api.post("/doors/main_door/request", { mode: 1 })).status).toBe(422);
    expect(await api.post("/doors/main_door/request", { mode: 2 })).toEqual({ status: 200, json: null });
    expect((await api.post("/lifts/Lift1/request", { ...fixture("rest/lift_request.json"), destination: "L9" })).status).toBe(422);
    expect((await api.post("/lifts/Lift1/request", fixture("rest/lift_request.json"))).status).toBe(200);
    await eventually(() => bridge.published.some((p) => p.topic === "adapter_lift_requests"), "lift request published");
    expect(bridge.published.find((p) => p.topic === "adapter_door_requests")?.msg).toMatchObject({ door_name: "main_door", requested_mode: { value: 2 }, requester_id: "tester" });
    expect((await http(main.url, await token(["task_read"])).post("/doors/main_door/request", { mode: 2 })).status).toBe(403);
    expect((await api.get("/doors")).json).toEqual(fixture("rooms/building_map.json").levels[0].doors);
    expect((await api.get("/building_map")).json).toEqual(fixture("rooms/building_map.json"));
  });

  it("answers alerts: 201, 404, 409, 400", async () => {
    const admin = http(main.url, await token(["admin"]));
    const alert = { ...fixture("rooms/alert_request.json"), id: "alert-rest-1" };
    expect((await admin.post("/alerts/request", alert)).status).toBe(201);
    expect((await admin.post("/alerts/request", { id: "x" })).status).toBe(422);
    expect((await admin.post("/alerts/request/nope/respond?response=Acknowledge")).status).toBe(404);
    expect((await admin.post("/alerts/request/alert-rest-1/respond?response=Maybe")).status).toBe(400);
    const answered = await admin.post("/alerts/request/alert-rest-1/respond?response=Acknowledge");
    expect(answered.status).toBe(201);
    expect(answered.json).toMatchObject({ id: "alert-rest-1", response: "Acknowledge" });
    expect((await admin.post("/alerts/request/alert-rest-1/respond?response=Acknowledge")).status).toBe(409);
    expect((await admin.get("/alerts/request/alert-rest-1/response")).json).toEqual(answered.json);
    expect(((await admin.get("/alerts/unresponded_requests")).json as AlertRequest[]).map((a) => a.id)).not.toContain("alert-rest-1");
    expect(((await admin.get("/alerts/requests/task/patrol-6f1c")).json as AlertRequest[]).map((a) => a.id)).toContain("alert-rest-1");
  });

  it("gives everything back after a restart on the same database", async () => {
    await main.flush();
    const second = await startMain({ port: 0, db: testDb.db, jwtSecret: SECRET, jwtIssuer: ISSUER, internalToken: INTERNAL_TOKEN, log: logger() });
    try {
      const api = http(second.url, await token());
      expect((await api.get("/fleets/alpha/state")).json).toMatchObject({ name: "alpha" });
      expect((await api.get("/tasks/t-done/state")).json).toMatchObject({ status: "completed" });
      expect((await api.get("/doors/main_door/state")).json).toEqual(fixture("rooms/door_state.json"));
      expect((await api.get("/alerts/request/alert-rest-1/response")).json).toMatchObject({ response: "Acknowledge" });
      const c = await connectClient(second.url, await token());
      expect(await c.subscribe("/tasks/rest-1/state")).toEqual({ success: true, error: "" });
      expect(c.of("/tasks/rest-1/state")[0]).toMatchObject({ booking: { id: "rest-1" } });
      c.close();
    } finally {
      await second.close();
    }
  });
});
