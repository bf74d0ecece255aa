import { Counter, Gauge, Histogram } from "prom-client";
import { createRegistry } from "../../lib/ops";
import { BAD_PAYLOAD_KINDS } from "./input";

/** The manager's Prometheus metrics (`/metrics`). */
export const createMetrics = (gauges: { mqttConnected: () => boolean; feedClients: () => number; cachedStations: () => number }) => {
  const registry = createRegistry();
  new Gauge({
    name: "csms_manager_mqtt_connected",
    help: "1 while the manager's MQTT connection is up",
    registers: [registry],
    collect() {
      this.set(gauges.mqttConnected() ? 1 : 0);
    },
  });
  new Gauge({
    name: "csms_manager_feed_clients",
    help: "Open SSE connections on /api/v0/events",
    registers: [registry],
    collect() {
      this.set(gauges.feedClients());
    },
  });
  new Gauge({
    name: "csms_manager_cached_stations",
    help: "Stations in this manager's in-memory view",
    registers: [registry],
    collect() {
      this.set(gauges.cachedStations());
    },
  });
  const mqttMessages = new Counter({ name: "csms_manager_mqtt_messages_total", help: "MQTT messages by direction", labelNames: ["direction"] as const, registers: [registry] });
  const badPayloads = new Counter({
    name: "csms_manager_bad_payloads_total",
    help: "MQTT messages dropped because they broke contracts/csms: by kind (envelope, presence, gateway, feed) and reason (json, schema, topic)",
    labelNames: ["kind", "reason"] as const,
    registers: [registry],
  });
  const calls = new Counter({
    name: "csms_manager_station_calls_total",
    help: "Station CALLs handled, by action and outcome (result | error)",
    labelNames: ["action", "outcome"] as const,
    registers: [registry],
  });
  const callDuration = new Histogram({
    name: "csms_manager_call_duration_seconds",
    help: "Time from receiving a station CALL to publishing the answer",
    labelNames: ["action"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commands = new Counter({
    name: "csms_manager_commands_total",
    help: "Commands sent through the API, by neutral action and status",
    labelNames: ["action", "status"] as const,
    registers: [registry],
  });
  const refusedCalls = new Counter({
    name: "csms_manager_refused_calls_total",
    help: "Station CALLs answered with a CALLERROR on purpose, by reason (unstorable, connector, unsupported, unknown_action)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const repeatedCalls = new Counter({ name: "csms_manager_repeated_calls_total", help: "Station CALLs received again (redelivery or gateway retry) and not handled twice", registers: [registry] });
  const forwarded = new Counter({ name: "csms_manager_forwarded_results_total", help: "Results of another manager's CALLs forwarded to it", registers: [registry] });
  const notOwner = new Counter({ name: "csms_manager_not_owner_total", help: "Station messages skipped because another manager owns the station (affinity: station)", registers: [registry] });
  const handover = new Counter({ name: "csms_manager_handover_stations_total", help: "Cached stations lost to / gained from another manager on a membership change", labelNames: ["direction"] as const, registers: [registry] });
  const members = new Gauge({ name: "csms_manager_members", help: "Live managers this one counts (itself included; affinity: station)", registers: [registry] });
  members.set(1);
  const batchRows = new Counter({ name: "csms_manager_batch_rows_total", help: "Rows written in batches", labelNames: ["table"] as const, registers: [registry] });
  const batchErrors = new Counter({ name: "csms_manager_batch_errors_total", help: "Failed batch writes", labelNames: ["table"] as const, registers: [registry] });
  const feedEvents = new Counter({ name: "csms_manager_feed_events_total", help: "Events appended to the live feed", labelNames: ["type", "origin"] as const, registers: [registry] });
  for (const kind of BAD_PAYLOAD_KINDS) for (const reason of ["json", "schema"]) badPayloads.inc({ kind, reason }, 0);
  badPayloads.inc({ kind: "envelope", reason: "topic" }, 0);
  return { registry, mqttMessages, badPayloads, calls, callDuration, commands, refusedCalls, repeatedCalls, forwarded, notOwner, handover, members, batchRows, batchErrors, feedEvents };
};

