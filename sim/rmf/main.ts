import { parseArgs } from "node:util";
import { readCredentials } from "../../lib/credentials";
import { logger } from "../../lib/log";
import { startRmfSim } from "./rmf-sim";

// The logger is created lazily, so naming the service here is early enough.
process.env.SWITCHYARD_SERVICE ??= "sim-rmf";

const USAGE = `usage: npm run sim:rmf -- [options]
  --robots N            robots (default 10), one charger each
  --fleets F            fleets to spread them over (default: one per 10 robots)
  --url URL             RMF main (default $RMF_MAIN_URL or http://127.0.0.1:8000)
  --token T             internal token (default $RMF_INTERNAL_TOKEN, else .data/credentials.json)
  --seed S              seed for reproducible behaviour (default 1)
  --events on|off       random obstacles, alerts and failures (default on)
  --auto-tasks S        an idle robot per fleet gets a patrol or delivery every S simulated seconds (default 30, 0 = off)
  --speed S             simulated seconds per second (default 1)
  --hz H                state updates per second (default 10)`;

const num = (value: string | undefined, name: string, fallback: number, { min = 0, max = Infinity } = {}) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
  return n;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      robots: { type: "string" },
      fleets: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      seed: { type: "string" },
      events: { type: "string" },
      "auto-tasks": { type: "string" },
      speed: { type: "string" },
      hz: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.events !== undefined && values.events !== "on" && values.events !== "off") throw new Error("--events must be on or off");
  const url = values.url ?? process.env.RMF_MAIN_URL ?? "http://127.0.0.1:8000";
  if (!/^https?:\/\//.test(url)) throw new Error("--url must be http:// or https://");
  const token = values.token ?? process.env.RMF_INTERNAL_TOKEN ?? readCredentials(process.env.SWITCHYARD_DATA_DIR ?? ".data").secrets?.rmfInternalToken;
  if (!token) throw new Error("no internal token: pass --token, set RMF_INTERNAL_TOKEN, or run npm start once");
  const log = logger();
  const robots = num(values.robots, "robots", 10, { min: 1, max: 5000 });
  const sim = await startRmfSim({
    mainUrl: url,
    token,
    robots,
    fleets: values.fleets === undefined ? undefined : num(values.fleets, "fleets", 1, { min: 1, max: robots }),
    seed: num(values.seed, "seed", 1),
    randomEvents: values.events !== "off",
    autoTaskEverySec: num(values["auto-tasks"], "auto-tasks", 30),
    speed: num(values.speed, "speed", 1, { min: 0.1, max: 100 }),
    publishHz: num(values.hz, "hz", 10, { min: 0.1, max: 100 }),
    log,
  });
  process.stdout.write(`${JSON.stringify({ event: "ready", service: "sim-rmf", url, robots, fleets: sim.fleets, pid: process.pid })}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 3000).unref();
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`sim:rmf failed: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(1);
});
