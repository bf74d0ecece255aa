import { parseArgs } from "node:util";
import { z } from "zod";
import { zBool } from "../../lib/env";
import { runService } from "../../services/lib/run-service";
import { randomPasswords, startFleet } from "./fleet";

const USAGE = `usage: npm run sim:ocpp -- [options]
  --stations N          number of stations (default 10)
  --url URL             gateway base URL (default $CSMS_GATEWAY_URL or ws://127.0.0.1:9310)
  --prefix P            station id prefix (default SIM → SIM00001 …)
  --password PW         one password for every station (default: random per station, registered first)
  --manager-url URL     register the stations there first (POST /api/v0/cs/{id})
  --manager-token T     bearer token for the registration (default $CSMS_MANAGER_TOKEN)
  --ratio16 R           share of OCPP 1.6 stations, 0…1 (default 0.5)
  --behaviour B         demo (cars come and go, faults) or idle (default demo; idle when $SITE_SIM_EVENTS=0)
  --speed S             simulated seconds per second for charging and behaviour (default 1)
  --connectors C        connectors per station (default 2)
  --connect-rate R      stations opened per second (default 200)
  --seed S              seed for reproducible behaviour (default $SITE_SIM_SEED, else random)`;

/** Settings the simulator also takes from the environment (the same names the site uses). */
const simEnvSchema = z.object({
  CSMS_GATEWAY_URL: z.string().regex(/^wss?:\/\//, "must be ws:// or wss://").optional(),
  CSMS_MANAGER_TOKEN: z.string().optional(),
  SITE_SIM_SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),
  SITE_SIM_EVENTS: zBool.default(true),
});

const num = (value: string | undefined, name: string, fallback: number, { min = 0, max = Infinity } = {}) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]\n${USAGE}`);
  return n;
};

const parseCli = () => {
  try {
    return parseArgs({
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
    }).values;
  } catch (error) {
    process.stderr.write(`sim:ocpp: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
};
const values = parseCli();

if (values.help) process.stdout.write(`${USAGE}\n`);
else
  runService({
    name: "sim-ocpp",
    envSchema: simEnvSchema,
    start: async ({ env, log }) => {
      const behaviour = values.behaviour ?? (env.SITE_SIM_EVENTS ? "demo" : "idle");
      if (behaviour !== "demo" && behaviour !== "idle") throw new Error("--behaviour must be demo or idle");
      const prefix = values.prefix ?? "SIM";
      if (!/^[A-Za-z0-9._-]{1,40}$/.test(prefix)) throw new Error("--prefix must be 1–40 letters, digits, '.', '_' or '-'");
      const url = values.url ?? env.CSMS_GATEWAY_URL ?? "ws://127.0.0.1:9310";
      if (!/^wss?:\/\//.test(url)) throw new Error("--url must be ws:// or wss://");
      const password = values.password;
      if (!password && !values["manager-url"]) log.warn("no --manager-url: the random station passwords are registered nowhere (fine only for a gateway with CSMS_ALLOW_ANY_STATION=1)");

      const fleet = await startFleet({
        url,
        stations: num(values.stations, "stations", 10, { min: 1, max: 200_000 }),
        idPrefix: prefix,
        passwordFor: password ? () => password : randomPasswords(),
        managerUrl: values["manager-url"],
        managerToken: values["manager-token"] ?? env.CSMS_MANAGER_TOKEN,
        ratio16: num(values.ratio16, "ratio16", 0.5, { max: 1 }),
        behaviour,
        speed: num(values.speed, "speed", 1, { min: 0.01, max: 10_000 }),
        connectors: num(values.connectors, "connectors", 2, { min: 1, max: 32 }),
        connectRatePerSec: num(values["connect-rate"], "connect-rate", 200, { min: 0.1 }),
        seed: values.seed === undefined ? env.SITE_SIM_SEED : num(values.seed, "seed", 0),
        log,
      });
      void fleet.ready.then(() => log.info(fleet.summary(), "all stations booted"));
      const summary = setInterval(() => log.info(fleet.summary(), "fleet summary"), 30_000);
      summary.unref();
      return {
        ready: { url, stations: fleet.stations.length, prefix },
        close: async () => {
          clearInterval(summary);
          await fleet.close();
        },
      };
    },
  });
