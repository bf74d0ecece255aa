import { verify, type KeyObject } from "node:crypto";
import { canonicalJson } from "../../contracts/flex/canonical";
import { activationMessageSchema, type AckMessage, type ActivationBody } from "../../contracts/flex/mqtt";

export type ActivationCheck =
  | { ok: true; body: ActivationBody }
  | { ok: false; reason: NonNullable<AckMessage["reason"]>; seq: number; stepTs: number };

/**
 * What a device does with an activation before it follows it (services/flex/README.md): the
 * node's Ed25519 signature over the canonical JSON of every field but `signature`, for this
 * device and node; a `seq` above the last one taken; `validUntil` still ahead; the setpoint
 * within the device's limits. Shared by the simulated devices and the console's EV-charger
 * bridge, so both refuse exactly the same messages with the same reasons.
 */
export const checkActivation = (
  payload: Buffer | string,
  { deviceId, nodeId, nodeKey, lastSeq, pMinW, pMaxW, verifySignature = true, now = Date.now() }: { deviceId: string; nodeId: string; nodeKey: KeyObject; lastSeq: number; pMinW: number; pMaxW: number; verifySignature?: boolean; now?: number },
): ActivationCheck => {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString());
  } catch {
    return { ok: false, reason: "malformed", seq: -1, stepTs: 0 };
  }
  const parsed = activationMessageSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed", seq: -1, stepTs: 0 };
  const { signature, ...body } = parsed.data;
  const signed = { ...(raw as Record<string, unknown>) };
  delete signed.signature;
  let valid = false;
  try {
    valid = body.nodeId === nodeId && body.deviceId === deviceId && (!verifySignature || verify(null, Buffer.from(canonicalJson(signed)), nodeKey, Buffer.from(signature, "base64")));
  } catch {
    valid = false;
  }
  const refuse = (reason: NonNullable<AckMessage["reason"]>): ActivationCheck => ({ ok: false, reason, seq: body.seq, stepTs: body.stepTs });
  if (!valid) return refuse("bad_signature");
  if (body.seq <= lastSeq) return refuse("replayed");
  if (body.validUntil <= now) return refuse("expired");
  if (body.setpointW < pMinW || body.setpointW > pMaxW) return refuse("out_of_range");
  return { ok: true, body };
};
