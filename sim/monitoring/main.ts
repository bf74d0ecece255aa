import { parseArgs } from "node:util";
import { logger } from "../../lib/log";
import { startMonitoringSim } from "./fleet";

/**
 * `npm run sim:monitoring -- --url http://127.0.0.1:8300 --admin-token … [--mqtt-url mqtt://127.0.0.1:1884]`
 * Registers its sites through the service's admin API, then posts every interval.
 */
process.env.SWITCHYARD_SERVICE ??= "sim-monitoring";
const { values } = parseArgs({
  options: {
    url: { type: "string", default: process.env.MONITORING_URL ?? "http://127.0.0.1:8300" },
    "admin-token": { type: "string", default: process.env.MONITORING_ADMIN_TOKEN },
    "mqtt-url": { type: "string", default: process.env.MONITORING_SIM_MQTT_URL },
    regions: { type: "string", default: process.env.MONITORING_REGIONS ?? "eu-north,eu-west,ap-southeast" },
    sites: { type: "string", default: "2" },
    buildings: { type: "string", default: "1" },
    devices: { type: "string", default: "100" },
    "interval-ms": { type: "string", default: "10000" },
    seed: { type: "string", default: "1" },
    "no-faults": { type: "boolean", default: false },
    "scripted-fault-after-ms": { type: "string" },
  },
});
const log = logger();
const int = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};
const main = async () => {
  if (!values["admin-token"]) throw new Error("--admin-token (or MONITORING_ADMIN_TOKEN) is required to register the simulated sites");
  const sim = await startMonitoringSim({
    url: values.url!,
    adminToken: values["admin-token"],
    mqttUrl: values["mqtt-url"],
    regions: values.regions!.split(",").map((r) => r.trim()).filter(Boolean),
    sitesPerRegion: int("sites", values.sites),
    buildingsPerRegion: int("buildings", values.buildings),
    devicesPerBuilding: int("devices", values.devices),
    intervalMs: int("interval-ms", values["interval-ms"]),
    seed: int("seed", values.seed),
    faults: values["no-faults"] ? "off" : "random",
    scriptedFaultAfterMs: values["scripted-fault-after-ms"] !== undefined ? int("scripted-fault-after-ms", values["scripted-fault-after-ms"]) : undefined,
    log,
  });
  process.stdout.write(`${JSON.stringify({ event: "ready", service: "sim-monitoring", sites: sim.sites.length, pid: process.pid })}\n`);
  const report = setInterval(() => log.info(sim.stats(), "sim stats"), 30_000);
  const stop = () => {
    clearInterval(report);
    void sim.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};
main().catch((error: unknown) => {
  process.stderr.write(`sim:monitoring failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
