import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import type { TaskState } from "../../contracts/rmf";
import { logger } from "../../lib/log";
import { usingServices } from "../../lib/testing/db";
import { createScratchDatabase } from "../../lib/testing/pg";
import { startRmfSim, type RmfSim } from "../../sim/rmf/rmf-sim";
import { eventually, http, INTERNAL_TOKEN, ISSUER, SECRET, token } from "./testkit";

/**
 * kill -9 of RMF main mid-stream, then a restart: no task state may be lost. Main runs as a
 * real child process on a real database (PGlite on disk, or PostgreSQL under
 * SWITCHYARD_TEST_SERVICES=1); the simulator keeps running tasks through the crash.
 */
const root = path.resolve(import.meta.dirname, "../..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rmf-kill-"));
let databaseUrl: string | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let child: ChildProcess | undefined;
let sim: RmfSim | undefined;

const startMainProcess = (port: number) =>
  new Promise<{ url: string; proc: ChildProcess }>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: "test",
        LOG_LEVEL: "warn",
        SWITCHYARD_DATA_DIR: dataDir,
        RMF_MAIN_PORT: String(port),
        RMF_JWT_SECRET: SECRET,
        RMF_JWT_ISSUER: ISSUER,
        RMF_INTERNAL_TOKEN: INTERNAL_TOKEN,
    };
    // Unset → PGlite in <data dir>/rmf, which survives the child like a real deployment's disk.
    if (databaseUrl) env.DATABASE_URL = databaseUrl;
    else delete env.DATABASE_URL;
    const proc = spawn(process.execPath, ["--import", "tsx", "services/rmf/main/main.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const lines = createInterface({ input: proc.stdout! });
    lines.on("line", (line) => {
      if (!line.startsWith('{"event":"ready"')) return;
      resolve({ url: (JSON.parse(line) as { url: string }).url, proc });
    });
    proc.once("exit", (code) => reject(new Error(`main exited with ${code}: ${stderr}`)));
  });

afterAll(async () => {
  await sim?.close();
  if (child && child.exitCode === null) child.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase?.();
});

describe("RMF main under kill -9", () => {
  it("loses no task state: accepted dispatches survive the crash and every task converges after the restart", async () => {
    if (usingServices()) {
      const scratch = await createScratchDatabase({ prefix: "switchyard_rmf_kill" });
      ({ url: databaseUrl, drop: dropDatabase } = scratch);
    }
    let started = await startMainProcess(0);
    child = started.proc;
    const url = started.url;
    const port = Number(new URL(url).port);
    sim = await startRmfSim({ mainUrl: url, token: INTERNAL_TOKEN, robots: 4, fleets: 1, seed: 5, randomEvents: false, autoTaskEverySec: 4, speed: 10, log: logger() });
    const jwt = await token();
    const rest = http(url, jwt);
    await eventually(() => sim!.connected(), "sim connected");

    const dispatched: string[] = [];
    for (const places of [["pantry", "lounge"], ["library"], ["lab", "hall"]]) {
      const res = await rest.post("/tasks/dispatch_task", { type: "dispatch_task_request", request: { category: "patrol", description: { places, rounds: 1 } } });
      expect(res.status).toBe(200);
      dispatched.push(res.json.state.booking.id);
    }
    // Mid-stream: tasks are moving, some finished, updates flowing at 10 Hz.
    await eventually(() => [...sim!.tasks.values()].filter((t) => t.state.status === "completed").length >= 2 && [...sim!.tasks.values()].some((t) => t.state.status === "underway"), "tasks in flight", 60_000);
    child.kill("SIGKILL");
    await new Promise((r) => child!.once("exit", r));

    started = await startMainProcess(port);
    child = started.proc;
    // What main itself promised (a 200 on dispatch) is there straight from its database.
    for (const id of dispatched) expect((await rest.get(`/tasks/${id}/state`)).status, id).toBe(200);
    // And once the fleet adapter is back, every task it knows matches, status by status.
    await eventually(async () => {
      for (const t of sim!.tasks.values()) {
        const got = await rest.get(`/tasks/${t.id}/state`);
        if (got.status !== 200 || (got.json as TaskState).status !== t.state.status) return false;
      }
      return true;
    }, "every task converged", 30_000);
    const all = (await rest.get("/tasks?limit=1000")).json as TaskState[];
    expect(all.length).toBeGreaterThanOrEqual(sim.tasks.size);
  }, 120_000);
});
