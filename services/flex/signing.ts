import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { canonicalJson } from "../../contracts/flex/canonical";
import type { ActivationBody } from "../../contracts/flex/mqtt";
import { signActivationBatch } from "../../lib/flex/activation-batch";

/**
 * Ed25519 over canonical JSON (node:crypto). Keys travel as base64 DER: PKCS#8 for the
 * private half (kept in .data/credentials.json), SPKI for the public half (served by
 * GET /api/v1/node, handed to devices at registration). Peer envelopes are signed one by one;
 * activations in batches under one signature (lib/flex/activation-batch.ts).
 */
export type NodeKeys = { privateKey: string; publicKey: string };

export const generateNodeKeys = (): NodeKeys => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey: privateKey.export({ format: "der", type: "pkcs8" }).toString("base64"),
    publicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
  };
};

export const importPrivateKey = (base64: string) => createPrivateKey({ key: Buffer.from(base64, "base64"), format: "der", type: "pkcs8" });
export const importPublicKey = (base64: string) => createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });

export const signCanonical = (key: KeyObject, body: unknown) => sign(null, Buffer.from(canonicalJson(body)), key).toString("base64");

/** False for a bad signature, a malformed one, or a body that cannot be canonicalised. */
export const verifyCanonical = (key: KeyObject, body: unknown, signature: string) => {
  try {
    return verify(null, Buffer.from(canonicalJson(body)), key, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
};

export const createSigner = (keys: NodeKeys) => {
  const privateKey = importPrivateKey(keys.privateKey);
  return {
    publicKey: keys.publicKey,
    sign: (body: unknown) => signCanonical(privateKey, body),
    /** One signature over the batch's Merkle root; each message carries its own path. */
    signActivations: (nodeId: string, bodies: ActivationBody[]) => signActivationBatch(privateKey, nodeId, bodies),
  };
};
export type Signer = ReturnType<typeof createSigner>;
