import { connectAsync, type MqttClient } from "mqtt";
import type pino from "pino";
import { buildingGatewayUsername, buildingTelemetryTopic, datasetsToCsv, type BuildingTelemetry, type Dataset } from "../../contracts/monitoring";
import { createRng, deriveSeed } from "../ocpp/rng";
import { buildingReading, createSitePhysics, stepSite, type Fault } from "./physics";

/**
 * The monitoring simulator: solar sites in several regions posting pms / mppt / inverter
 * every interval over HTTP (JSON and CSV in turn, each site with its own API key), and
 * buildings whose gateway relays its devices' readings over MQTT. Seeded, so a run repeats;
 * random faults can be switched off, and a scripted fault (first site of each region, pack 1
 * cell 3 drops to 2.62 V after `scriptedFaultAfterMs`) gives end-to-end tests a known alarm.
 */
export type SimSite = { id: string; name: string; region: string; kind: "solar" | "building"; lat: number; lon: number };
export type Provisioned = { ingestKeys: Map<string, string>; gatewayPasswords: Map<string, string> };

export type MonitoringSimOptions = {
  url: string;
  regions: string[];
  sitesPerRegion?: number;
  buildingsPerRegion?: number;
  devicesPerBuilding?: number;
  intervalMs?: number;
  seed?: number;
  faults?: "random" | "off";
  scriptedFaultAfterMs?: number;
  mqttUrl?: string;
  /** Registers the sites and returns their keys; default: the service's admin API. */
  provision?: (sites: SimSite[]) => Promise<Provisioned>;
  adminToken?: string;
  log: pino.Logger;
};

/** A region's UTC offset for the simulated sites' local time. */
const OFFSETS: Record<string, number> = { "eu-north": 60, "eu-west": 0, "ap-southeast": 420 };
const COORDS: Record<string, [number, number]> = { "eu-north": [59.3, 18.1], "eu-west": [53.3, -6.3], "ap-southeast": [-6.2, 106.8] };
const FAULTS: Fault[] = ["cell_low", "pack_hot", "mppt_short", "inverter_bus", "cell_spread"];
const BUILDING_TYPES = ["hvac", "meter", "sensor", "lighting"] as const;

export const simSites = ({ regions, sitesPerRegion = 2, buildingsPerRegion = 1 }: Pick<MonitoringSimOptions, "regions" | "sitesPerRegion" | "buildingsPerRegion">): SimSite[] =>
  regions.flatMap((region, ri) => {
    const [lat, lon] = COORDS[region] ?? [0, 0];
    return [
      ...Array.from({ length: sitesPerRegion }, (_, i) => ({ id: `${region}-solar-${i + 1}`, name: `${region} BTS ${i + 1}`, region, kind: "solar" as const, lat: lat + i * 0.1, lon: lon + ri * 0.01 })),
      ...Array.from({ length: buildingsPerRegion }, (_, i) => ({ id: `${region}-bldg-${i + 1}`, name: `${region} building ${i + 1}`, region, kind: "building" as const, lat: lat - i * 0.1, lon: lon + 0.2 })),
    ];
  });

export const provisionViaAdminApi = (url: string, adminToken: string) => async (sites: SimSite[]): Promise<Provisioned> => {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { key?: string };
  };
  const out: Provisioned = { ingestKeys: new Map(), gatewayPasswords: new Map() };
  for (const site of sites) {
    await call("/api/v1/admin/sites", site);
    if (site.kind === "solar") out.ingestKeys.set(site.id, (await call("/api/v1/admin/keys", { kind: "ingest", site: site.id, sender: `SIM-${site.id}` })).key!);
    else out.gatewayPasswords.set(site.id, (await call("/api/v1/admin/keys", { kind: "gateway", site: site.id })).key!);
  }
  return out;
};

export const startMonitoringSim = async (o: MonitoringSimOptions) => {
  const intervalMs = o.intervalMs ?? 10_000;
  const seed = o.seed ?? 1;
  const sites = simSites(o);
  const provision = o.provision ?? (o.adminToken ? provisionViaAdminApi(o.url, o.adminToken) : undefined);
  if (!provision) throw new Error("the simulator needs an admin token or a provision function to register its sites");
  const keys = await provision(sites);
  const stats = { posts: 0, ok: 0, rejected: 0, errors: 0, mqtt: 0 };
  const timers: NodeJS.Timeout[] = [];
  const clients: MqttClient[] = [];
  const startedAt = Date.now();
  let closed = false;

  const post = async (key: string, dataset: Dataset, body: unknown, csv: boolean) => {
    stats.posts += 1;
    try {
      const res = await fetch(`${o.url}/devices/dataset/${dataset}`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": csv ? "text/csv" : "application/json" },
        body: csv ? datasetsToCsv(dataset, [body as never]) : JSON.stringify({ datasets: [body] }),
      });
      if (res.ok) stats.ok += 1;
      else {
        stats.rejected += 1;
        o.log.warn({ dataset, status: res.status, body: (await res.text()).slice(0, 300) }, "simulated post refused");
      }
    } catch (error) {
      stats.errors += 1;
      if (!closed) o.log.debug({ err: (error as Error).message }, "simulated post failed");
    }
  };

  sites.forEach((site, index) => {
    const rng = createRng(deriveSeed(seed, index));
    const offset = OFFSETS[site.region] ?? 0;
    const firstInRegion = sites.findIndex((s) => s.region === site.region) === index;
    if (site.kind === "solar") {
      const physics = createSitePhysics(rng);
      const key = keys.ingestKeys.get(site.id)!;
      const n = site.id.replace(/[^0-9]/g, "").padStart(2, "0");
      const code = site.region.split("-").map((p) => p[0].toUpperCase()).join("");
      const ids = { pms: `PMS-${code}-${n}`, mppt: `MPPT-${code}-${n}`, inverter: `INV-${code}-${n}`, packPrefix: `${code}${n}-P` };
      let tick = 0;
      // A site's first random fault comes 1–4 min after the start, so an operator who just ran
      // `npm start` sees alarms appear; after that about one per site and hour.
      let firstFaultAt: number | undefined = startedAt + rng.between(60_000, 240_000);
      const run = () => {
        if (closed) return;
        const dtS = intervalMs / 1000;
        if (o.faults !== "off") {
          for (const [fault, until] of physics.faults) if (until < Date.now()) physics.faults.delete(fault);
          const first = firstFaultAt !== undefined && Date.now() >= firstFaultAt;
          if (first) firstFaultAt = undefined;
          if (first || rng.happens(dtS, 3600)) physics.faults.set(rng.pick(FAULTS), Date.now() + rng.between(120_000, 600_000));
        }
        if (firstInRegion && o.scriptedFaultAfterMs !== undefined && Date.now() - startedAt >= o.scriptedFaultAfterMs) physics.faults.set("cell_low", Infinity);
        const sample = stepSite(physics, { rng, t: Date.now(), dtS, offsetMinutes: offset, ids });
        const csv = tick++ % 2 === 1;
        void post(key, "pms", sample.pms, csv);
        void post(key, "mppt", sample.mppt, csv);
        void post(key, "inverter", sample.inverter, csv);
      };
      const first = setTimeout(() => {
        run();
        const t = setInterval(run, intervalMs);
        t.unref();
        timers.push(t);
      }, rng.between(0, Math.min(intervalMs, 2000)));
      first.unref();
      timers.push(first);
      return;
    }
    const password = keys.gatewayPasswords.get(site.id);
    if (!password || !o.mqttUrl) return;
    const devices = o.devicesPerBuilding ?? 100;
    void (async () => {
      const client = await connectAsync(o.mqttUrl!, { username: buildingGatewayUsername(site.region, site.id), password, clientId: `sim-gw-${site.id}-${process.pid}`, reconnectPeriod: 2000 });
      clients.push(client);
      if (closed) return void client.endAsync(true);
      let next = 0;
      // Devices report spread over the interval: one slot every interval / devices.
      const slot = Math.max(10, Math.floor(intervalMs / devices));
      const t = setInterval(() => {
        if (!client.connected) return;
        const d = next++ % devices;
        const type = BUILDING_TYPES[d % BUILDING_TYPES.length];
        const localHour = (((Date.now() / 3_600_000 + offset / 60) % 24) + 24) % 24;
        const fault = o.faults !== "off" && rng.happens(intervalMs / 1000, 6 * 3600);
        const payload: BuildingTelemetry = { time: new Date().toISOString(), type, metrics: buildingReading(rng, type, localHour, fault) };
        client.publish(buildingTelemetryTopic(site.region, site.id, `dev-${String(d + 1).padStart(3, "0")}`), JSON.stringify(payload), { qos: 1 });
        stats.mqtt += 1;
      }, slot);
      t.unref();
      timers.push(t);
    })().catch((error: unknown) => o.log.warn({ site: site.id, err: (error as Error).message }, "building gateway could not connect"));
  });

  o.log.info({ sites: sites.filter((s) => s.kind === "solar").length, buildings: sites.filter((s) => s.kind === "building").length, intervalMs, faults: o.faults ?? "random" }, "monitoring simulator started");
  return {
    sites,
    stats: () => ({ ...stats }),
    close: async () => {
      closed = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    },
  };
};
