import { parseArgs } from "node:util";
import { z } from "zod";
import { DEVICE_KINDS } from "../../contracts/flex/entities";
import { readCredentials } from "../../lib/credentials";
import { parseEnv, zMqttUrl } from "../../lib/env";
import { logger } from "../../lib/log";
import { startFlexFleet } from "./fleet";

/**
 * `npm run sim:flex -- --devices N [--node-url URL] [--mqtt-url URL] [--token FSP_TOKEN]
 * [--seed N] [--random] [--prefix P] [--kinds battery,heat-pump,ev-charger]`. Registers N
 * devices with the node (as an FSP), connects them to the broker and runs until Ctrl-C.
 * The token defaults to the first FSP of the node in credentials.json.
 */
process.env.SWITCHYARD_SERVICE ??= "sim-flex";

const env = parseEnv(
  z.object({
    SWITCHYARD_DATA_DIR: z.string().default(".data"),
    FLEX_NODE_URL: z.string().url().default("http://127.0.0.1:8200"),
    FLEX_MQTT_URL: zMqttUrl.default("mqtt://127.0.0.1:1885"),
    FLEX_FSP_TOKEN: z.string().optional(),
  }),
);
const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "20" },
    "node-url": { type: "string" },
    "mqtt-url": { type: "string" },
    token: { type: "string" },
    seed: { type: "string", default: "1" },
    random: { type: "boolean", default: false },
    prefix: { type: "string", default: "sim" },
    kinds: { type: "string" },
  },
});
const args = z
  .object({
    devices: z.coerce.number().int().min(1).max(20_000),
    seed: z.coerce.number().int(),
    kinds: z.array(z.enum(DEVICE_KINDS)).optional(),
  })
  .safeParse({ devices: values.devices, seed: values.seed, kinds: values.kinds?.split(",") });
if (!args.success) {
  process.stderr.write(`sim:flex: ${args.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}\n`);
  process.exit(2);
}

const log = logger();
const nodeUrl = values["node-url"] ?? env.FLEX_NODE_URL;
const fspToken = () => {
  const flex = readCredentials(env.SWITCHYARD_DATA_DIR).flex as { participants?: Record<string, { role: string; token: string }[]> } | undefined;
  return Object.values(flex?.participants ?? {})
    .flat()
    .find((p) => p.role === "FSP")?.token;
};
const token = values.token ?? env.FLEX_FSP_TOKEN ?? fspToken();
if (!token) {
  process.stderr.write("sim:flex: no FSP token (--token, FLEX_FSP_TOKEN, or a node's credentials.json)\n");
  process.exit(2);
}

startFlexFleet({
  nodeUrl,
  token,
  mqttUrl: values["mqtt-url"] ?? env.FLEX_MQTT_URL,
  devices: args.data.devices,
  seed: args.data.seed,
  behaviour: values.random ? "random" : "steady",
  prefix: values.prefix,
  kinds: args.data.kinds,
  log,
}).then(
  (fleet) => {
    process.stdout.write(`${JSON.stringify({ event: "ready", service: "sim-flex", nodeId: fleet.info.nodeId, devices: fleet.devices.length, pid: process.pid })}\n`);
    const stop = () => {
      setTimeout(() => process.exit(0), 3000).unref();
      fleet.close().then(() => process.exit(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  },
  (error: unknown) => {
    process.stderr.write(`sim:flex failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
