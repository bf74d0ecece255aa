import { Counter, Gauge, Histogram } from "prom-client";
import { OCPP_VERSIONS, type OcppVersion } from "../../../contracts/csms/mqtt";
import { createRegistry } from "../../lib/ops";

/** The gateway's Prometheus metrics (`/metrics`). */
export const createMetrics = (stationCounts: () => Record<OcppVersion, number>, mqttConnected: () => boolean) => {
  // A registry per gateway: tests run several gateways in one process.
  const registry = createRegistry();
  new Gauge({
    name: "csms_gateway_connected_stations",
    help: "Stations with an open websocket on this gateway",
    labelNames: ["protocol"] as const,
    registers: [registry],
    collect() {
      const counts = stationCounts();
      for (const p of OCPP_VERSIONS) this.set({ protocol: p }, counts[p]);
    },
  });
  new Gauge({
    name: "csms_gateway_mqtt_connected",
    help: "1 while the gateway's MQTT connection is up",
    registers: [registry],
    collect() {
      this.set(mqttConnected() ? 1 : 0);
    },
  });
  const frames = new Counter({
    name: "csms_gateway_frames_total",
    help: "OCPP-J messages on station websockets; direction in = from the station",
    labelNames: ["direction", "type", "action"] as const,
    registers: [registry],
  });
  const badFrames = new Counter({
    name: "csms_gateway_bad_frames_total",
    help: "Websocket input refused: malformed JSON/RPC, schema violations, unknown actions, oversized frames",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const badMqtt = new Counter({
    name: "csms_gateway_bad_mqtt_payloads_total",
    help: "MQTT payloads on the out topics that were ignored or refused",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({ name: "csms_gateway_rate_limited_total", help: "Station CALLs refused by the per-station rate limit", registers: [registry] });
  const retries = new Counter({ name: "csms_gateway_station_call_retries_total", help: "Station CALLs published again because the manager had not answered yet", registers: [registry] });
  const floodPauses = new Counter({ name: "csms_gateway_flood_pauses_total", help: "Times reading from a rate-limited station's socket was paused (backpressure)", registers: [registry] });
  const floodDisconnects = new Counter({ name: "csms_gateway_flood_disconnects_total", help: "Stations disconnected (1008) for flooding after being rate limited", registers: [registry] });
  const queueFull = new Counter({ name: "csms_gateway_queue_full_total", help: "Manager CALLs refused because the station's queue was full", registers: [registry] });
  const stationOffline = new Counter({ name: "csms_gateway_station_offline_total", help: "Manager CALLs answered StationOffline", registers: [registry] });
  const timeouts = new Counter({
    name: "csms_gateway_call_timeouts_total",
    help: "CALLs that got no answer in time; origin = who sent the CALL",
    labelNames: ["origin"] as const,
    registers: [registry],
  });
  const upgrades = new Counter({
    name: "csms_gateway_upgrades_total",
    help: "Websocket upgrade attempts by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const mqttMessages = new Counter({
    name: "csms_gateway_mqtt_messages_total",
    help: "MQTT messages published and received by the gateway",
    labelNames: ["direction"] as const,
    registers: [registry],
  });
  const callDuration = new Histogram({
    name: "csms_gateway_call_duration_seconds",
    help: "Round trip through the gateway: origin station = station→manager→station, origin manager = manager→station→manager",
    labelNames: ["origin", "outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Zero-initialise the refusal series so alerts see 0 rather than "no data".
  for (const reason of ["json", "rpc", "schema", "unknown_action", "oversized", "response_schema"]) badFrames.inc({ reason }, 0);
  for (const reason of ["json", "schema", "unknown_id", "protocol_mismatch", "response_schema", "request_schema"]) badMqtt.inc({ reason }, 0);
  for (const origin of ["station", "manager"]) timeouts.inc({ origin }, 0);
  for (const outcome of ["accepted", "unauthorized", "not_found", "bad_request", "unavailable"]) upgrades.inc({ outcome }, 0);
  return { registry, frames, badFrames, badMqtt, rateLimited, retries, floodPauses, floodDisconnects, queueFull, stationOffline, timeouts, upgrades, mqttMessages, callDuration };
};

