import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskState } from "../../contracts/rmf";
import { logger } from "../../lib/log";
import type { TestDb } from "../../lib/testing/db";
import type { RmfMain } from "../../services/rmf/main/server";
import { connectClient, eventually, http, INTERNAL_TOKEN, startTestMain, token, type TestClient } from "../../services/rmf/testkit";
import { startRmfSim, type RmfSim } from "./rmf-sim";

const delivery = {
  type: "dispatch_task_request",
  request: {
    category: "delivery",
    description: { pickup: { place: "supplies", handler: "coke_dispenser", payload: [{ sku: "coke", quantity: 1 }] }, dropoff: { place: "storage", handler: "coke_ingestor", payload: [{ sku: "coke", quantity: 1 }] } },
    requester: "ops",
  },
};

describe("the RMF simulator, alone", () => {
  const snapshot = (sim: RmfSim) => ({
    robots: sim.robots.map((r) => [r.name, r.level, r.x.toFixed(3), r.y.toFixed(3), r.battery.toFixed(5), r.status]),
    tasks: [...sim.tasks.values()].map((t) => [t.state.category, t.state.assigned_to?.name, t.state.status, t.phase]),
  });
  const run = async (seed: number) => {
    // Nobody listens on port 9: the links retry quietly, the simulation runs regardless.
    const sim = await startRmfSim({ mainUrl: "http://127.0.0.1:9", token: INTERNAL_TOKEN, robots: 6, seed, autoTaskEverySec: 10, randomEvents: true, autoStart: false, log: logger() });
    sim.step(3000);
    const s = snapshot(sim);
    await sim.close();
    return s;
  };

  it("is deterministic for a seed and differs between seeds", async () => {
    const a = await run(7);
    const b = await run(7);
    expect(b).toEqual(a);
    expect(a.tasks.length).toBeGreaterThan(3);
    expect(a.tasks.some(([, , status]) => status === "completed")).toBe(true);
    expect(await run(8)).not.toEqual(a);
  });

  it("has two floors, a lift, doors, places and one charger per robot on its map", async () => {
    const sim = await startRmfSim({ mainUrl: "http://127.0.0.1:9", token: INTERNAL_TOKEN, robots: 25, autoStart: false, log: logger() });
    const { map } = sim.building;
    expect(map.levels.map((l) => l.name)).toEqual(["L1", "L2"]);
    expect(map.lifts.map((l) => l.name)).toEqual(["Lift1"]);
    expect(map.levels.flatMap((l) => l.doors.map((d) => d.name))).toEqual(["main_door", "lab_door"]);
    expect(map.levels[0].places.filter((p) => p.name.startsWith("charger_"))).toHaveLength(25);
    expect(sim.fleets).toEqual(["tinyRobot", "deliveryRobot", "cleanerBot"]);
    await sim.close();
  });
});

describe("the RMF simulator against main", () => {
  let main: RmfMain;
  let testDb: TestDb;
  let sim: RmfSim;
  let watcher: TestClient;

  beforeAll(async () => {
    ({ main, testDb } = await startTestMain());
    sim = await startRmfSim({ mainUrl: main.url, token: INTERNAL_TOKEN, robots: 3, fleets: 1, seed: 3, randomEvents: false, autoTaskEverySec: 0, speed: 20, log: logger() });
    await eventually(() => sim.connected() && main.state.stickyOf("building_map") !== undefined && main.state.stickyOf("fleet_state", "tinyRobot") !== undefined, "sim connected and reporting");
    watcher = await connectClient(main.url, await token());
  });
  afterAll(async () => {
    watcher?.close();
    await sim?.close();
    await main?.close();
    await testDb?.close();
  });

  it("reports every robot at 10 Hz with complete RobotStates", async () => {
    await watcher.subscribe("/fleets/tinyRobot/state");
    await eventually(() => watcher.of("/fleets/tinyRobot/state").length >= 5, "a few fleet updates");
    const last = watcher.of("/fleets/tinyRobot/state").at(-1) as { robots: Record<string, Record<string, unknown>> };
    expect(Object.keys(last.robots)).toEqual(["tinyRobot1", "tinyRobot2", "tinyRobot3"]);
    expect(Object.keys(last.robots.tinyRobot1).sort()).toEqual(["battery", "commission", "issues", "location", "mutex_groups", "name", "status", "task_id", "unix_millis_time"]);
  });

  it("carries a delivery through the door and the lift to completion, with phases and logs", async () => {
    const api = http(main.url, await token());
    const res = await api.post("/tasks/dispatch_task", delivery);
    expect(res.status).toBe(200);
    const id = res.json.state.booking.id as string;
    expect(res.json.state).toMatchObject({ category: "delivery", status: "queued", assigned_to: { group: "tinyRobot" } });
    await watcher.subscribe(`/tasks/${id}/state`);
    await watcher.subscribe(`/tasks/${id}/log`);
    await watcher.subscribe("/lifts/Lift1/state");
    await watcher.subscribe("/doors/main_door/state");
    await eventually(() => (watcher.of(`/tasks/${id}/state`).at(-1) as TaskState | undefined)?.status === "completed", "delivery completed", 60_000);
    const states = watcher.of(`/tasks/${id}/state`) as TaskState[];
    expect(states.map((s) => s.status)).toContain("underway");
    const done = states.at(-1)!;
    expect(done.completed).toEqual([1, 2]);
    expect(Object.values(done.phases!).map((p) => p.category)).toEqual(["Pick up from [place:supplies]", "Drop off at [place:storage]"]);
    expect(Object.values(done.phases!["2"].events!).every((e) => e.status === "completed")).toBe(true);
    // Streamed deltas (the first may precede our subscribe) and the stored log agree.
    await eventually(() => watcher.of(`/tasks/${id}/log`).length > 0, "log deltas streamed");
    const stored = (await api.get(`/tasks/${id}/log?between=0,${Date.now() + 1000}`)).json;
    const texts = [stored].flatMap((d) => {
      const delta = d as { log: { text: string }[]; phases: Record<string, { log: { text: string }[]; events: Record<string, { text: string }[]> }> };
      return [...delta.log, ...Object.values(delta.phases).flatMap((p) => [...p.log, ...Object.values(p.events).flat()])].map((e) => e.text);
    });
    expect(texts).toEqual(expect.arrayContaining(["Beginning task", "Moving towards [place:supplies]", "Waiting for door main_door to open", "Requesting lift Lift1", "Riding lift Lift1", "Task completed"]));
    expect((watcher.of("/lifts/Lift1/state") as { current_floor: string }[]).map((l) => l.current_floor)).toContain("L2");
    expect((watcher.of("/doors/main_door/state") as { current_mode: { value: number } }[]).map((d) => d.current_mode.value)).toContain(2);
    // Main derived the completion alert and kept the task.
    expect(((await api.get(`/alerts/requests/task/${id}`)).json as { title: string }[]).map((a) => a.title)).toContain("Task completed");
  });

  it("cancels a task and refuses what RMF cannot do", async () => {
    const api = http(main.url, await token());
    const patrol = await api.post("/tasks/dispatch_task", { type: "dispatch_task_request", request: { category: "patrol", description: { places: ["library", "lounge"], rounds: 2 } } });
    expect(patrol.status).toBe(200);
    const id = patrol.json.state.booking.id as string;
    expect(await api.post("/tasks/cancel_task", { type: "cancel_task_request", task_id: id, labels: ["ops"] })).toEqual({ status: 200, json: { success: true } });
    await eventually(async () => (await api.get(`/tasks/${id}/state`)).json.status === "canceled", "canceled");
    expect((await api.get(`/tasks/${id}/state`)).json.cancellation).toMatchObject({ labels: ["ops"] });
    expect((await api.post("/tasks/cancel_task", { type: "cancel_task_request", task_id: id })).json.success).toBe(false);
    const unknownPlace = await api.post("/tasks/dispatch_task", { type: "dispatch_task_request", request: { category: "patrol", description: { places: ["atlantis"] } } });
    expect(unknownPlace.status).toBe(400);
    expect(unknownPlace.json.errors[0]).toMatchObject({ category: "Rejected", detail: "Unknown place: atlantis" });
    expect((await api.post("/tasks/dispatch_task", { type: "dispatch_task_request", request: { category: "juggling", description: {} } })).status).toBe(400);
    const direct = await api.post("/tasks/robot_task", { type: "robot_task_request", fleet: "tinyRobot", robot: "tinyRobot2", request: { category: "patrol", description: { places: ["pantry"] } } });
    expect(direct.json.state.assigned_to).toEqual({ group: "tinyRobot", name: "tinyRobot2" });
  });

  it("opens a door and calls the lift when an operator asks", async () => {
    const api = http(main.url, await token());
    expect((await api.post("/doors/lab_door/request", { mode: 2 })).status).toBe(200);
    await eventually(async () => (await api.get("/doors/lab_door/state")).json.current_mode.value === 2, "door opened");
    expect((await api.post("/doors/lab_door/request", { mode: 0 })).status).toBe(200);
    await eventually(async () => (await api.get("/doors/lab_door/state")).json.current_mode.value === 0, "door closed");
    expect((await api.post("/lifts/Lift1/request", { request_type: 2, door_mode: 2, destination: "L2" })).status).toBe(200);
    await eventually(async () => {
      const l = (await api.get("/lifts/Lift1/state")).json;
      return l.current_floor === "L2" && l.door_state === 2 && l.session_id === "tester";
    }, "lift at L2 for the operator");
    expect((await api.post("/lifts/Lift1/request", { request_type: 0, door_mode: 0, destination: "L2" })).status).toBe(200);
    await eventually(async () => (await api.get("/lifts/Lift1/state")).json.session_id === "", "session ended");
  });
});
