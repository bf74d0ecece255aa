import type { KeyObject } from "node:crypto";
import { activationMessageSchema, type AckMessage, type ActivationBody, type ActivationMessage } from "../../contracts/flex/mqtt";
import { activationRoot, activationStatement, verifyStatement, type StatementVerifier } from "./activation-batch";

export type ActivationCheck =
  | { ok: true; body: ActivationBody }
  | { ok: false; reason: NonNullable<AckMessage["reason"]>; seq: number; stepTs: number };

/**
 * What a device does with an activation before it follows it (services/flex/README.md): its
 * body (every field but `signature` and `proof`, as received) hashes up its proof's path to a
 * batch root whose statement carries the node's Ed25519 signature
 * (lib/flex/activation-batch.ts), for this device and node; a `seq` above the last one taken;
 * `validUntil` still ahead; the setpoint within the device's limits. Shared by the simulated
 * devices and the console's EV-charger bridge, so both refuse exactly the same messages with
 * the same reasons. `verifier` replaces the plain Ed25519 check (the simulator passes one
 * that remembers answers across the devices of a process).
 */
export const checkActivation = (
  payload: Buffer | string,
  {
    deviceId,
    nodeId,
    nodeKey,
    lastSeq,
    pMinW,
    pMaxW,
    verifySignature = true,
    verifier,
    now = Date.now(),
  }: { deviceId: string; nodeId: string; nodeKey: KeyObject; lastSeq: number; pMinW: number; pMaxW: number; verifySignature?: boolean; verifier?: StatementVerifier; now?: number },
): ActivationCheck => {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString());
  } catch {
    return { ok: false, reason: "malformed", seq: -1, stepTs: 0 };
  }
  const parsed = activationMessageSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed", seq: -1, stepTs: 0 };
  const { signature, proof, ...body } = parsed.data;
  // What was signed is what arrived (unknown fields included), not what the schema kept.
  const valid = body.nodeId === nodeId && body.deviceId === deviceId && (!verifySignature || signedByNode(raw, proof, signature, nodeId, verifier ?? verifyStatement(nodeKey)));
  const refuse = (reason: NonNullable<AckMessage["reason"]>): ActivationCheck => ({ ok: false, reason, seq: body.seq, stepTs: body.stepTs });
  if (!valid) return refuse("bad_signature");
  if (body.seq <= lastSeq) return refuse("replayed");
  if (body.validUntil <= now) return refuse("expired");
  if (body.setpointW < pMinW || body.setpointW > pMaxW) return refuse("out_of_range");
  return { ok: true, body };
};

const signedByNode = (signed: unknown, proof: ActivationMessage["proof"], signature: string, nodeId: string, verifier: StatementVerifier) => {
  let root: string | undefined;
  try {
    root = activationRoot(signed, proof);
  } catch {
    return false; // a body canonical JSON cannot represent
  }
  return root !== undefined && verifier(activationStatement(nodeId, proof.size, root), signature);
};
