import { z } from "zod";

/**
 * Smart-building telemetry (Envio ADR): one gateway per building relays its devices'
 * readings over MQTT, one message per device reading. The broker confines a gateway to
 * `buildings/<region>/<building>/#`; it may also receive commands there.
 */
export const BUILDING_TOPIC_ROOT = "buildings";
export const buildingTelemetryTopic = (region: string, building: string, device: string) => `${BUILDING_TOPIC_ROOT}/${region}/${building}/${device}/telemetry`;
/** What the monitoring service subscribes to (shared subscription in front when replicated). */
export const BUILDING_TELEMETRY_FILTER = `${BUILDING_TOPIC_ROOT}/+/+/+/telemetry`;
export const buildingCommandTopic = (region: string, building: string, device: string) => `${BUILDING_TOPIC_ROOT}/${region}/${building}/${device}/command`;

/** The MQTT username prefix of building gateways: `building-gw:<region>/<building>`. */
export const BUILDING_GATEWAY_USER_PREFIX = "building-gw:";
export const buildingGatewayUsername = (region: string, building: string) => `${BUILDING_GATEWAY_USER_PREFIX}${region}/${building}`;
export const parseBuildingGatewayUsername = (username: string) => {
  if (!username.startsWith(BUILDING_GATEWAY_USER_PREFIX)) return undefined;
  const m = /^([a-z0-9-]{1,32})\/([A-Za-z0-9._-]{1,64})$/.exec(username.slice(BUILDING_GATEWAY_USER_PREFIX.length));
  return m ? { region: m[1], building: m[2] } : undefined;
};

const LEVEL = /^[A-Za-z0-9._-]{1,64}$/;
export const parseBuildingTopic = (topic: string) => {
  const parts = topic.split("/");
  if (parts.length !== 5 || parts[0] !== BUILDING_TOPIC_ROOT || parts[4] !== "telemetry") return undefined;
  const [, region, building, device] = parts;
  if (!/^[a-z0-9-]{1,32}$/.test(region) || !LEVEL.test(building) || !LEVEL.test(device)) return undefined;
  return { region, building, device };
};

export const BUILDING_DEVICE_TYPES = ["hvac", "meter", "sensor", "lighting", "lift", "other"] as const;
export const METRIC_NAME = /^[a-z][a-z0-9_]{0,47}(\.[a-z0-9_]{1,48}){0,3}$/;

export const buildingTelemetrySchema = z.strictObject({
  /** ISO 8601 with an offset or Z; like the datasets, local time without an offset is refused. */
  time: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with an offset or Z" }),
  type: z.enum(BUILDING_DEVICE_TYPES, { error: `must be one of ${BUILDING_DEVICE_TYPES.join(", ")}` }),
  metrics: z
    .record(z.string().regex(METRIC_NAME, "metric names are lower-case words joined by . or _"), z.number({ error: "must be a number" }).refine(Number.isFinite, "must be finite"))
    .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 50, "must have 1–50 metrics"),
});
export type BuildingTelemetry = z.infer<typeof buildingTelemetrySchema>;

/** The stored record of one building reading (raw-data API, dataset `building`). */
export type BuildingRecord = {
  building: string;
  device: string;
  type: (typeof BUILDING_DEVICE_TYPES)[number];
  metrics: Record<string, number>;
  sender: string;
  time_event: string;
  time_zone: string;
  time_processing: string;
};
