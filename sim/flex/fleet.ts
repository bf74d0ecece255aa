import type pino from "pino";
import { nodeInfoSchema, registeredDeviceSchema, type RegisterDevice } from "../../contracts/flex/api";
import { DEVICE_KINDS, type DeviceKind } from "../../contracts/flex/entities";
import { createRng, deriveSeed } from "../ocpp/rng";
import { createSimDevice, type SimBehaviour, type SimDevice, type SimDeviceOptions } from "./device";

/**
 * A fleet of simulated devices for one flex node: registered through the node's HTTP API
 * with an FSP token (the answer carries each device's broker password and the node's public
 * key), then connected to the broker. One timer drives every device's physics and schedule.
 */
export type FleetOptions = {
  nodeUrl: string;
  /** An FSP participant token of that node. */
  token: string;
  mqttUrl: string;
  devices: number;
  prefix?: string;
  seed?: number;
  behaviour?: SimBehaviour;
  kinds?: DeviceKind[];
  /** Spread over these grid nodes (default: every grid node the node serves). */
  gridNodes?: string[];
  tickMs?: number;
  reviseEveryMs?: number;
  telemetryEveryMs?: number;
  connectConcurrency?: number;
  /** The MQTT client each device uses (default mqtt.js). */
  connect?: SimDeviceOptions["connect"];
  onEvent?: (deviceId: string, event: Parameters<NonNullable<SimDeviceOptions["onEvent"]>>[0]) => void;
  log?: pino.Logger;
};

const limitsOf = (kind: DeviceKind, i: number): Pick<RegisterDevice, "pMinW" | "pMaxW" | "rampWps"> => {
  if (kind === "battery") return { pMinW: -5000 - (i % 3) * 1000, pMaxW: 5000 + (i % 3) * 1000, rampWps: 5000 };
  if (kind === "heat-pump") return { pMinW: 0, pMaxW: 3000 + (i % 4) * 500, rampWps: 500 };
  return { pMinW: 0, pMaxW: i % 2 ? 11_000 : 7400, rampWps: 3000 };
};

export const registerFleetDevices = async ({ nodeUrl, token, list }: { nodeUrl: string; token: string; list: RegisterDevice[] }) => {
  const out = [];
  for (let i = 0; i < list.length; i += 1000) {
    const res = await fetch(`${nodeUrl}/api/v1/devices`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ devices: list.slice(i, i + 1000) }) });
    if (!res.ok) throw new Error(`device registration failed: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { devices: unknown[] };
    out.push(...body.devices.map((d) => registeredDeviceSchema.parse(d)));
  }
  return out;
};

export const startFlexFleet = async (opts: FleetOptions) => {
  const { nodeUrl, token, mqttUrl, prefix = "sim", seed = 1, behaviour = "steady", kinds = [...DEVICE_KINDS], tickMs = 500 } = opts;
  const infoRes = await fetch(`${nodeUrl}/api/v1/node`, { headers: { authorization: `Bearer ${token}` } });
  if (!infoRes.ok) throw new Error(`flex node ${nodeUrl} answered HTTP ${infoRes.status}`);
  const info = nodeInfoSchema.parse(await infoRes.json());
  const gridNodes = opts.gridNodes ?? info.gridNodes;
  const list: RegisterDevice[] = Array.from({ length: opts.devices }, (_, i) => {
    const kind = kinds[i % kinds.length];
    return { id: `${prefix}-${info.nodeId}-${String(i + 1).padStart(5, "0")}`, kind, gridNodeId: gridNodes[i % gridNodes.length], ...limitsOf(kind, i) };
  });
  const registered = await registerFleetDevices({ nodeUrl, token, list });
  const devices: SimDevice[] = registered.map((r, i) =>
    createSimDevice({
      registered: r,
      mqttUrl,
      rng: createRng(deriveSeed(seed, i)),
      behaviour,
      periodMs: info.periodMs,
      reviseEveryMs: opts.reviseEveryMs,
      telemetryEveryMs: opts.telemetryEveryMs,
      connect: opts.connect,
      onEvent: opts.onEvent ? (e) => opts.onEvent!(r.device.id, e) : undefined,
    }),
  );
  const concurrency = opts.connectConcurrency ?? 200;
  for (let i = 0; i < devices.length; i += concurrency) await Promise.all(devices.slice(i, i + concurrency).map((d) => d.start()));
  const timer = setInterval(() => {
    const now = Date.now();
    for (const d of devices) d.tick(now);
  }, tickMs);
  const now = Date.now();
  for (const d of devices) d.tick(now);
  opts.log?.info({ nodeId: info.nodeId, devices: devices.length, behaviour }, "flex device fleet connected");
  return {
    info,
    devices,
    byId: new Map(devices.map((d) => [d.id, d])),
    close: async () => {
      clearInterval(timer);
      for (let i = 0; i < devices.length; i += 500) await Promise.all(devices.slice(i, i + 500).map((d) => d.close()));
    },
  };
};
export type FlexFleet = Awaited<ReturnType<typeof startFlexFleet>>;
