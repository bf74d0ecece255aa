import { z } from "zod";
import { fleetLogSchema, fleetStateSchema, taskEventLogSchema, taskStateSchema } from "./models";
import { isRoomName } from "./rooms";

/**
 * The `/_internal` websocket fleet adapters feed the server through: JSON text frames
 * `{type, data}`, rmf-web's four message types. Switchyard requires
 * `Authorization: Bearer <RMF_INTERNAL_TOKEN>` on the upgrade, validates every frame, and
 * answers a rejected one with an `InternalNotice` on the same socket (rmf-web answers
 * nothing and closes the socket); the connection and everything else stay up.
 */
export const INTERNAL_PATH = "/_internal";

const roomName = z.string().refine(isRoomName, "must be 1–256 characters without '/'");

export const internalDataSchemas = {
  fleet_state_update: fleetStateSchema.extend({ name: roomName }),
  fleet_log_update: fleetLogSchema.extend({ name: roomName }),
  task_state_update: taskStateSchema.refine((t) => isRoomName(t.booking.id), { message: "booking.id must be 1–256 characters without '/'", path: ["booking", "id"] }),
  task_log_update: taskEventLogSchema.refine((t) => isRoomName(t.task_id), { message: "task_id must be 1–256 characters without '/'", path: ["task_id"] }),
} as const;
export type InternalType = keyof typeof internalDataSchemas;
export const INTERNAL_TYPES = Object.keys(internalDataSchemas) as InternalType[];

export const internalEnvelopeSchema = z.object({ type: z.string(), data: z.unknown() });

export type InternalMessage =
  | { type: "fleet_state_update"; data: z.infer<(typeof internalDataSchemas)["fleet_state_update"]> }
  | { type: "fleet_log_update"; data: z.infer<(typeof internalDataSchemas)["fleet_log_update"]> }
  | { type: "task_state_update"; data: z.infer<(typeof internalDataSchemas)["task_state_update"]> }
  | { type: "task_log_update"; data: z.infer<(typeof internalDataSchemas)["task_log_update"]> };

/** Parses one frame's text; `error` says what was wrong, for the notice and the log. */
export const parseInternalFrame = (text: string): { ok: true; message: InternalMessage } | { ok: false; error: string } => {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  const envelope = internalEnvelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, error: "expected {type, data}" };
  const type = envelope.data.type as InternalType;
  if (!Object.hasOwn(internalDataSchemas, type)) return { ok: false, error: `unknown type '${envelope.data.type.slice(0, 64)}'` };
  const data = internalDataSchemas[type].safeParse(envelope.data.data);
  if (!data.success) return { ok: false, error: `invalid ${type}: ${data.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "data"}: ${i.message}`).join("; ")}` };
  return { ok: true, message: { type, data: data.data } as InternalMessage };
};

/** Switchyard's answer to a frame it did not accept (rate limiting included). */
export const internalNoticeSchema = z.object({ type: z.literal("error"), error: z.string(), dropped: z.number().int().optional() });
export type InternalNotice = z.infer<typeof internalNoticeSchema>;
