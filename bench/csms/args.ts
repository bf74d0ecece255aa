import { parseArgs } from "node:util";

/** Command line of `npm run bench:csms`: usage text, parsing and validation (exits 2 on bad input). */

export const usage = `usage: npm run bench:csms -- --stations N [options]
  --stations N            stations to simulate (required)
  --load-procs P          load-generator processes (default ceil(N / 4000), ≤ 5000 sockets each); --procs is an alias
  --gateways G            gateway processes (default ceil(N / 17000): open files are capped at 20,000 per process)
  --managers M            manager processes splitting the station traffic (default 1, 2 from 20,000 stations):
                          each owns its stations (CSMS_MANAGER_AFFINITY=station, default) or, with
                          CSMS_MANAGER_AFFINITY=share in the environment, an MQTT 5 shared subscription; more than
                          one needs --db postgres://… (one database) and --broker mosquitto or mqtt://…;
                          with --manager inline it is always 1
  --broker B              "embedded" (aedes in its own process), "mosquitto" (a private mosquitto on a free
                          port: MQTT 5, max_connections -1, set_tcp_nodelay true) or mqtt://… (default
                          mqtt://127.0.0.1:1883, the system Mosquitto, with a unique topic prefix per run)
  --db D                  "pglite" (fresh data dir, default) or postgres://… (a fresh database is created
                          on that server and dropped afterwards)
  --duration S            steady phase after the ramp, seconds (default 30)
  --ramp-per-sec R        stations connected per second (default 100)
  --heartbeat-sec H       heartbeat interval, also the manager's (default 60)
  --status-every-sec S    each station toggles one connector Available/Unavailable every S s (default 60, 0 = off)
  --tx-fraction F         share of stations running a transaction (default 0.2)
  --tx-sec S              transaction length (default 30)
  --meter-sec S           MeterValues / TransactionEvent Updated period (default 10)
  --ratio16 F             share of OCPP 1.6 stations, the rest 2.0.1 (default 0.5)
  --call-timeout-ms MS    station-side call timeout (default 30000)
  --manager M             "real" (services/csms/manager/main.ts, default) or "inline" (the testkit's
                          answer-everything stand-in, one process: gateways + broker only, no database, no SSE
                          feed; the view latency is then station → MQTT in/ seen by a plain subscriber)
  --observe-mqtt          also measure station → MQTT in/ (a plain subscriber) latency
  --log-level L           gateway/manager LOG_LEVEL (default warn)
  --quiet-wait S          before starting, wait up to S s for the machine to be idle (< 25 % busy over 3 s),
                          since other work on a 2-core box skews every number (default 180, 0 = don't wait)
  --json-out FILE         append the result as one JSON line to FILE
  --flood                 add one hostile station (BENCHFLOOD, its own process) that sends valid Heartbeats as
                          fast as its socket allows from t0 to the end; its calls are not measured
`;

const { values: args } = parseArgs({
  options: {
    stations: { type: "string" },
    procs: { type: "string" },
    "load-procs": { type: "string" },
    gateways: { type: "string" },
    managers: { type: "string" },
    broker: { type: "string", default: "mqtt://127.0.0.1:1883" },
    db: { type: "string", default: "pglite" },
    duration: { type: "string", default: "30" },
    "ramp-per-sec": { type: "string", default: "100" },
    "heartbeat-sec": { type: "string", default: "60" },
    "status-every-sec": { type: "string", default: "60" },
    "tx-fraction": { type: "string", default: "0.2" },
    "tx-sec": { type: "string", default: "30" },
    "meter-sec": { type: "string", default: "10" },
    ratio16: { type: "string", default: "0.5" },
    "call-timeout-ms": { type: "string", default: "30000" },
    "observe-mqtt": { type: "boolean", default: false },
    "log-level": { type: "string", default: "warn" },
    manager: { type: "string", default: "real" },
    "quiet-wait": { type: "string", default: "180" },
    "json-out": { type: "string" },
    flood: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  allowPositionals: false,
});

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};

const num = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number in [${min}, ${max}]\n${usage}`);
  return n;
};

if (args.help || !args.stations) {
  process.stdout.write(usage);
  process.exit(args.help ? 0 : 2);
}

const N = Math.floor(num("stations", args.stations, 1, 100_000));
const procsArg = args["load-procs"] ?? args.procs;
const P = Math.floor(num("load-procs", procsArg ?? String(Math.max(1, Math.ceil(N / 4000))), 1, 64));
if (N / P > 5000) fail(`--load-procs ${P}: ${Math.ceil(N / P)} sockets per process exceeds 5000 (open files are capped at 20,000); use --load-procs ${Math.ceil(N / 5000)} or more`);
const G = Math.floor(num("gateways", args.gateways ?? String(Math.max(1, Math.ceil(N / 17_000))), 1, 32));
if (N / G > 19_000) fail(`--gateways ${G}: ${Math.ceil(N / G)} station sockets per gateway would exceed the 20,000 open files of a process; use --gateways ${Math.ceil(N / 19_000)} or more`);
if (args.manager !== "real" && args.manager !== "inline") fail(`--manager must be "real" or "inline"`);
const inlineManager = args.manager === "inline";
const M = inlineManager ? 1 : Math.floor(num("managers", args.managers ?? (N >= 20_000 ? "2" : "1"), 1, 8));
if (args.broker !== "embedded" && args.broker !== "mosquitto" && !/^mqtts?:\/\//.test(args.broker!)) fail(`--broker must be "embedded", "mosquitto" or mqtt://…`);
if (args.db !== "pglite" && !/^postgres(ql)?:\/\//.test(args.db!)) fail(`--db must be "pglite" or postgres://…`);
if (M > 1 && args.db === "pglite") fail(`--managers ${M} needs one shared database: pass --db postgres://… (PGlite belongs to one process), or --managers 1`);
if (M > 1 && args.broker === "embedded") fail(`--managers ${M}: the embedded aedes broker does not load-balance $share subscriptions; use --broker mosquitto`);

export const opts = {
  N,
  /** Load-generator processes. */
  P,
  /** Gateway processes. */
  G,
  /** Manager processes (1 with the inline responder). */
  M,
  inlineManager,
  broker: args.broker!,
  db: args.db!,
  observeMqtt: args["observe-mqtt"]!,
  logLevel: args["log-level"]!,
  manager: args.manager!,
  quietWaitSec: num("quiet-wait", args["quiet-wait"], 0, 3600),
  jsonOut: args["json-out"],
  flood: args.flood!,
  cfg: {
    durationSec: num("duration", args.duration, 1, 3600),
    rampPerSec: num("ramp-per-sec", args["ramp-per-sec"], 1, 100_000),
    heartbeatSec: num("heartbeat-sec", args["heartbeat-sec"], 1, 86_400),
    statusEverySec: num("status-every-sec", args["status-every-sec"], 0, 86_400),
    txFraction: num("tx-fraction", args["tx-fraction"], 0, 1),
    txSec: num("tx-sec", args["tx-sec"], 1, 86_400),
    meterSec: num("meter-sec", args["meter-sec"], 1, 86_400),
    ratio16: num("ratio16", args.ratio16, 0, 1),
    callTimeoutMs: num("call-timeout-ms", args["call-timeout-ms"], 100, 600_000),
  },
};
export type Opts = typeof opts;
