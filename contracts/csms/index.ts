/**
 * The charging upstream's wire contract: MQTT topics and envelope between gateway and
 * manager (mqtt.ts), the manager's HTTP API and live feed (api.ts), and the command
 * catalogue (commands.ts). Imported by the gateway, the manager, the station simulator,
 * the console's connector and the browser alike.
 */
export * from "./api";
export * from "./commands";
export * from "./mqtt";
export * from "./station-filter";
export * from "./kpis";
