import { z } from "zod";
import { stationIdPattern, type OcppVersion } from "./mqtt";

/**
 * The charging command catalogue in the manager's version-neutral vocabulary
 * (services/csms/manager/API.md § Commands), with each action's parameters. One copy for
 * everyone: the manager validates requests with it before mapping them to OCPP, the
 * console's router validates its input with it, and the browser's forms use it.
 */
export const COMMAND_ACTIONS = [
  "remoteStart",
  "remoteStop",
  "reset",
  "unlockConnector",
  "changeAvailability",
  "triggerMessage",
  "getConfiguration",
  "changeConfiguration",
  "clearCache",
  "setChargingProfile",
  "getTransactionStatus",
] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

export const ZStationId = z.string().regex(stationIdPattern, "not a valid station id");

/** OCPP allows any connector/EVSE number; the station's own declaration is checked by the manager. */
const evseId = z.number().int("must be a whole number").min(0).max(1000);
const connectorId = z.number().int("must be a whole number").min(0).max(1000);

/** Messages a station can be asked to send, per OCPP version. */
export const TRIGGER_MESSAGES_BY_VERSION = {
  "ocpp1.6": ["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StatusNotification"],
  "ocpp2.0.1": [
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "StatusNotification",
    "TransactionEvent",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
  ],
} as const satisfies Record<OcppVersion, readonly string[]>;

/** Every trigger any version accepts; the manager checks the station's own version. */
export const TRIGGER_MESSAGES = [...new Set(Object.values(TRIGGER_MESSAGES_BY_VERSION).flat())] as [string, ...string[]];

const required = (max: number) => z.string().trim().min(1, "required").max(max, `at most ${max} characters`);

export const COMMAND_PARAMS = {
  remoteStart: z.strictObject({ connectorId: connectorId.min(1).optional(), evseId: evseId.min(1).optional(), idTag: required(36) }),
  // The API's transaction id (≤ 100: a 2.0.1 id is `<stationId>:<the station's id>`); the manager sends the station its own.
  remoteStop: z.strictObject({ transactionId: z.union([required(100), z.number().int()]).transform(String) }),
  reset: z.strictObject({ type: z.enum(["soft", "hard"]) }),
  unlockConnector: z.strictObject({ connectorId: connectorId.min(1), evseId: evseId.min(1).optional() }),
  changeAvailability: z.strictObject({ connectorId: connectorId.optional(), evseId: evseId.optional(), available: z.boolean() }),
  triggerMessage: z.strictObject({ message: z.enum(TRIGGER_MESSAGES), connectorId: connectorId.optional(), evseId: evseId.optional() }),
  getConfiguration: z.strictObject({ keys: z.array(required(100)).max(100).optional() }).default({}),
  changeConfiguration: z.union([
    z.strictObject({ key: required(100), value: z.string().max(1000) }),
    z.strictObject({ component: required(100), variable: required(100), value: z.string().max(1000) }),
  ]),
  clearCache: z.strictObject({}).default({}),
  setChargingProfile: z.strictObject({ connectorId: connectorId.optional(), evseId: evseId.optional(), limitW: z.number().positive().max(10_000_000) }),
  getTransactionStatus: z.strictObject({ transactionId: required(100).optional() }).default({}),
} satisfies Record<CommandAction, z.ZodType>;

/** The manager's `POST /api/v0/stations/{id}/commands` body; params are checked per action. */
export const ZCommandBody = z.strictObject({
  action: z.enum(COMMAND_ACTIONS),
  params: z.record(z.string(), z.unknown()).optional().default({}),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  /**
   * The console's Command id. The manager keeps the outcome under it (GET
   * /api/v0/commands/{commandId}) and never sends the same id twice, so a console that
   * restarted mid-command asks for the outcome instead of guessing.
   */
  commandId: z.uuid().optional(),
});

type Params = typeof COMMAND_PARAMS;
const member = <A extends CommandAction>(action: A) => z.object({ action: z.literal(action), params: COMMAND_PARAMS[action] as Params[A] });

/** `{ action, params }`, checked against that action's parameters. */
export const ZCommandSpec = z.discriminatedUnion("action", [
  member("remoteStart"),
  member("remoteStop"),
  member("reset"),
  member("unlockConnector"),
  member("changeAvailability"),
  member("triggerMessage"),
  member("getConfiguration"),
  member("changeConfiguration"),
  member("clearCache"),
  member("setChargingProfile"),
  member("getTransactionStatus"),
]);
export type CommandSpec = z.infer<typeof ZCommandSpec>;

export const COMMAND_LABELS: Record<CommandAction, string> = {
  remoteStart: "Remote start",
  remoteStop: "Remote stop",
  reset: "Reset",
  unlockConnector: "Unlock connector",
  changeAvailability: "Change availability",
  triggerMessage: "Trigger message",
  getConfiguration: "Get configuration",
  changeConfiguration: "Change configuration",
  clearCache: "Clear cache",
  setChargingProfile: "Set charging profile",
  getTransactionStatus: "Get transaction status",
};

/** Actions that interrupt charging for everyone at the station; they need `confirm: true`. */
export const isDestructive = (spec: { action: string; params?: unknown }) =>
  spec.action === "reset" && (spec.params as { type?: string } | undefined)?.type === "hard";

/** A 2.0.1 component written as `Name[:instance][@evse[.connector]]`, e.g. `EVSE@1`, `OCPPCommCtrlr`. */
export type Component201 = { name: string; instance?: string; evse?: { id: number; connectorId?: number } };
export type Variable201 = { name: string; instance?: string };

export const formatComponent = (c: Component201) =>
  `${c.name}${c.instance ? `:${c.instance}` : ""}${c.evse ? `@${c.evse.id}${c.evse.connectorId !== undefined ? `.${c.evse.connectorId}` : ""}` : ""}`;
export const formatVariable = (v: Variable201) => `${v.name}${v.instance ? `:${v.instance}` : ""}`;

const componentPattern = /^([A-Za-z0-9_-]{1,50})(?::([A-Za-z0-9_.-]{1,50}))?(?:@(\d{1,4})(?:\.(\d{1,4}))?)?$/;
const variablePattern = /^([A-Za-z0-9_-]{1,50})(?::([A-Za-z0-9_.-]{1,50}))?$/;
export const parseComponent = (s: string): Component201 | undefined => {
  const m = componentPattern.exec(s);
  if (!m) return undefined;
  return {
    name: m[1],
    ...(m[2] ? { instance: m[2] } : {}),
    ...(m[3] ? { evse: { id: Number(m[3]), ...(m[4] ? { connectorId: Number(m[4]) } : {}) } } : {}),
  };
};
export const parseVariable = (s: string): Variable201 | undefined => {
  const m = variablePattern.exec(s);
  return m ? { name: m[1], ...(m[2] ? { instance: m[2] } : {}) } : undefined;
};
