import { z } from "zod";
import { stationIdPattern } from "../../services/csms/protocol";
import type { CommandAction } from "../connectors/csms/types";

/**
 * The charging command catalogue in the manager's version-neutral vocabulary
 * (services/csms/manager/API.md § Commands), with each action's parameters. Plain zod, no
 * server imports: the browser's forms use the same definitions.
 */
export const ZStationId = z.string().regex(stationIdPattern, "not a valid station id");

const evseId = z.number().int().min(0).max(99);
const connectorId = z.number().int().min(0).max(99);

/** Messages a station can be asked to send; 1.6 and 2.0.1 each accept a subset (the manager checks which). */
export const TRIGGER_MESSAGES = [
  "BootNotification",
  "Heartbeat",
  "StatusNotification",
  "MeterValues",
  "FirmwareStatusNotification",
  "DiagnosticsStatusNotification",
  "LogStatusNotification",
  "TransactionEvent",
  "SignChargingStationCertificate",
] as const;

export const COMMAND_PARAMS = {
  remoteStart: z.object({ connectorId: connectorId.min(1).optional(), evseId: evseId.min(1).optional(), idTag: z.string().trim().min(1, "required").max(36) }),
  remoteStop: z.object({ transactionId: z.string().trim().min(1, "required").max(36) }),
  reset: z.object({ type: z.enum(["soft", "hard"]) }),
  unlockConnector: z.object({ connectorId: connectorId.min(1), evseId: evseId.min(1).optional() }),
  changeAvailability: z.object({ connectorId: connectorId.optional(), evseId: evseId.optional(), available: z.boolean() }),
  triggerMessage: z.object({ message: z.enum(TRIGGER_MESSAGES), connectorId: connectorId.optional(), evseId: evseId.optional() }),
  getConfiguration: z.object({ keys: z.array(z.string().trim().min(1).max(100)).max(100).optional() }).default({}),
  changeConfiguration: z.union([
    z.object({ key: z.string().trim().min(1, "required").max(100), value: z.string().max(1000) }),
    z.object({ component: z.string().trim().min(1, "required").max(100), variable: z.string().trim().min(1, "required").max(100), value: z.string().max(1000) }),
  ]),
  clearCache: z.object({}).default({}),
  setChargingProfile: z.object({ connectorId: connectorId.optional(), evseId: evseId.optional(), limitW: z.number().positive().max(10_000_000) }),
  getTransactionStatus: z.object({ transactionId: z.string().trim().min(1).max(36).optional() }).default({}),
} satisfies Record<CommandAction, z.ZodType>;

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
