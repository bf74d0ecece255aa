import { parseArgs } from "node:util";
import { logger } from "../../lib/log";
import { defaultPassword, startFleet } from "./fleet";

// The logger is created lazily, so naming the service here is early enough.
process.env.SWITCHYARD_SERVICE ??= "sim-ocpp";

const USAGE = `usage: npm run sim:ocpp -- [options]
  --stations N          number of stations (default 10)
  --url URL             gateway base URL (default $CSMS_GATEWAY_URL or ws://127.0.0.1:9310)
  --prefix P            station id prefix (default SIM → SIM00001 …)
  --password PW         one password for every station (default: derived per station id)
  --manager-url URL     register the stations there first (POST /api/v0/cs/{id})
  --manager-token T     bearer token for the registration (default $CSMS_MANAGER_TOKEN)
  --ratio16 R           share of OCPP 1.6 stations, 0…1 (default 0.5)
  --behaviour B         demo (cars come and go, faults) or idle (default demo)
  --speed S             simulated seconds per second for charging and behaviour (default 1)
  --connectors C        connectors per station (default 2)
  --connect-rate R      stations opened per second (default 200)
  --seed S              seed for reproducible behaviour`;

const num = (value: string | undefined, name: string, fallback: number, { min = 0, max = Infinity } = {}) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
  return n;
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      stations: { type: "string" },
      url: { type: "string" },
      prefix: { type: "string" },
      password: { type: "string" },
      "manager-url": { type: "string" },
      "manager-token": { type: "string" },
      ratio16: { type: "string" },
      behaviour: { type: "string" },
      speed: { type: "string" },
      connectors: { type: "string" },
      "connect-rate": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const behaviour = values.behaviour ?? "demo";
  if (behaviour !== "demo" && behaviour !== "idle") throw new Error("--behaviour must be demo or idle");
  const prefix = values.prefix ?? "SIM";
  if (!/^[A-Za-z0-9._-]{1,40}$/.test(prefix)) throw new Error("--prefix must be 1–40 letters, digits, '.', '_' or '-'");
  const url = values.url ?? process.env.CSMS_GATEWAY_URL ?? "ws://127.0.0.1:9310";
  if (!/^wss?:\/\//.test(url)) throw new Error("--url must be ws:// or wss://");
  const password = values.password;
  const log = logger();

  const fleet = await startFleet({
    url,
    stations: num(values.stations, "stations", 10, { min: 1, max: 200_000 }),
    idPrefix: prefix,
    passwordFor: password ? () => password : defaultPassword,
    managerUrl: values["manager-url"],
    managerToken: values["manager-token"] ?? process.env.CSMS_MANAGER_TOKEN,
    ratio16: num(values.ratio16, "ratio16", 0.5, { max: 1 }),
    behaviour,
    speed: num(values.speed, "speed", 1, { min: 0.01, max: 10_000 }),
    connectors: num(values.connectors, "connectors", 2, { min: 1, max: 32 }),
    connectRatePerSec: num(values["connect-rate"], "connect-rate", 200, { min: 0.1 }),
    seed: values.seed === undefined ? undefined : num(values.seed, "seed", 0),
    log,
  });
  process.stdout.write(`${JSON.stringify({ event: "ready", service: "sim-ocpp", url, stations: fleet.stations.length, prefix, pid: process.pid })}\n`);
  void fleet.ready.then(() => log.info(fleet.summary(), "all stations booted"));
  const summary = setInterval(() => log.info(fleet.summary(), "fleet summary"), 30_000);
  summary.unref();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "simulator stopping");
    clearInterval(summary);
    setTimeout(() => process.exit(0), 5000).unref();
    fleet.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`sim:ocpp failed: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(1);
});
