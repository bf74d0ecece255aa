import { randomBytes } from "node:crypto";
import { connect, type MqttClient } from "mqtt";
import type pino from "pino";
import type { Counter } from "prom-client";
import { BUILDING_TELEMETRY_FILTER, buildingTelemetrySchema, describeIssues, issuesOf, monitoringTopic, parseBuildingTopic, type BuildingMessage } from "../../../contracts/monitoring";
import type { Broker } from "../messaging/broker";
import type { Registry } from "../registry";
import { createBucket, type Bucket } from "./token-bucket";

/**
 * Building telemetry over MQTT: gateways publish `buildings/<region>/<building>/<device>/telemetry`
 * (the broker's ACL already confines each gateway to its own building). Each message is
 * checked — a building this service knows in a region it stores, a valid payload, a sane
 * time — and published on `monitoring.building`. Refusals are counted and logged at most
 * every 10 s per building; a gateway over its rate has the excess dropped. MQTT QoS 1 is
 * acknowledged on receipt, so a crash between receipt and the broker publish loses those
 * readings (a gap in a 10 s series, never a wrong value).
 */
export const startBuildingIngest = async ({
  mqttUrl,
  username,
  password,
  shareGroup,
  registry,
  brokers,
  log,
  maxFutureMs,
  maxAgeMs,
  messagesPerSecond,
  counter,
}: {
  mqttUrl: string;
  username?: string;
  password?: string;
  /** MQTT 5 shared subscription group when several service replicas share one broker. */
  shareGroup?: string;
  registry: Registry;
  brokers: Map<string, Broker>;
  log: pino.Logger;
  maxFutureMs: number;
  maxAgeMs: number;
  messagesPerSecond: number;
  counter: Counter<"outcome">;
}) => {
  const client: MqttClient = connect(mqttUrl, { clientId: `switchyard-monitoring-${randomBytes(5).toString("hex")}`, username, password, reconnectPeriod: 1000, protocolVersion: shareGroup ? 5 : 4 });
  const buckets = new Map<string, Bucket>();
  const lastLog = new Map<string, number>();
  const drop = (building: string, outcome: string, detail: string) => {
    counter.inc({ outcome });
    const t = Date.now();
    if ((lastLog.get(building) ?? 0) + 10_000 > t) return;
    lastLog.set(building, t);
    log.warn({ building, outcome, detail }, "building telemetry refused");
  };

  client.on("message", (topic, payload) => {
    const where = parseBuildingTopic(topic);
    if (!where) return drop("?", "bad_topic", topic);
    const site = registry.site(where.building);
    const broker = brokers.get(where.region);
    if (!site || site.kind !== "building" || site.region !== where.region || !broker) return drop(where.building, "unknown_building", `${where.region}/${where.building}`);
    let bucket = buckets.get(site.id);
    if (!bucket) buckets.set(site.id, (bucket = createBucket({ perSecond: messagesPerSecond, burst: 2 * messagesPerSecond })));
    if (!bucket.take()) return drop(site.id, "rate_limited", "over the gateway's message rate");
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      return drop(site.id, "invalid_json", "payload is not JSON");
    }
    const parsed = buildingTelemetrySchema.safeParse(json);
    if (!parsed.success) return drop(site.id, "invalid", describeIssues(issuesOf(parsed.error)));
    const t = Date.parse(parsed.data.time);
    const now = Date.now();
    if (t > now + maxFutureMs || t < now - maxAgeMs) return drop(site.id, "bad_time", `time ${parsed.data.time} outside the accepted window`);
    const message: BuildingMessage = { v: 1, region: site.region, site: site.id, sender: `gw-${site.id}`, receivedAt: now, dataset: "building", body: { building: site.id, device: where.device, telemetry: parsed.data } };
    broker.publish(monitoringTopic("building"), [{ key: `${site.id}:${where.device}`, value: message }]).then(
      () => counter.inc({ outcome: "accepted" }),
      (error: unknown) => drop(site.id, "busy", (error as Error).message),
    );
  });
  client.on("error", (error) => log.warn({ err: error.message }, "monitoring mqtt error"));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`could not connect to MQTT broker ${mqttUrl}`)), 15_000);
    client.once("connect", () => (clearTimeout(timer), resolve()));
  });
  const filter = shareGroup ? `$share/${shareGroup}/${BUILDING_TELEMETRY_FILTER}` : BUILDING_TELEMETRY_FILTER;
  await client.subscribeAsync(filter, { qos: 1 });
  log.info({ mqttUrl, filter }, "building telemetry subscribed");
  return {
    connected: () => client.connected,
    close: async () => {
      await client.endAsync(true).catch(() => {});
    },
  };
};
