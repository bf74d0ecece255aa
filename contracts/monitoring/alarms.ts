import { z } from "zod";

/**
 * Alarms as operators know them from ThingsBoard: a severity, and a status that is active
 * or cleared × acknowledged or not. At most one active alarm per device and type; a
 * condition that persists updates it, one that ends clears it.
 */
export const ALARM_SEVERITIES = ["critical", "major", "minor", "warning", "indeterminate"] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];
export const severityRank = (s: AlarmSeverity) => ALARM_SEVERITIES.length - ALARM_SEVERITIES.indexOf(s);

export const ALARM_TYPES = [
  "cell_voltage",
  "cell_imbalance",
  "pack_temperature",
  "bus_fault",
  "mppt_fault",
  "inverter_fault",
  "device_silent",
  "metric_threshold",
] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

export const ALARM_STATUSES = ["active_unack", "active_ack", "cleared_unack", "cleared_ack"] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

export const alarmViewSchema = z.object({
  id: z.string(),
  region: z.string(),
  site: z.string(),
  device: z.string(),
  dataset: z.string(),
  type: z.enum(ALARM_TYPES),
  severity: z.enum(ALARM_SEVERITIES),
  status: z.enum(ALARM_STATUSES),
  active: z.boolean(),
  acknowledged: z.boolean(),
  message: z.string(),
  /** What raised it: the reading(s) and the bound (e.g. `{ pack: "0241", cell: 3, volts: 2.41, min: 2.8 }`). */
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
  clearedAt: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  ackComment: z.string().nullable(),
  clearedBy: z.string().nullable(),
  clearComment: z.string().nullable(),
});
export type AlarmView = z.infer<typeof alarmViewSchema>;

/** Body of `POST …/alarms/:id/acknowledge` and `…/clear` (the actor comes from the caller's header). */
export const alarmActionBodySchema = z.strictObject({ comment: z.string().trim().max(500, "must be at most 500 characters").optional() });
export type AlarmAction = "acknowledge" | "clear";
