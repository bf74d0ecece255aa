import * as crypto from "node:crypto";
import { sign, verify, type KeyObject } from "node:crypto";
import { canonicalJson } from "../../contracts/flex/canonical";
import type { ActivationBody, ActivationMessage, ActivationProof } from "../../contracts/flex/mqtt";

/**
 * Batch signatures for activations (services/flex/README.md, "Activations"): a node signs the
 * setpoints it sends together — up to `FLEX_SIGN_BATCH` (200) of one chunk of a step — with
 * one Ed25519 signature over the root of a Merkle tree of their bodies, and each message
 * carries its own leaf's path to that root. A device checks that its body hashes up the
 * path to the root, and that the root's statement verifies with its node's key: one
 * signature check per message as before, but the node signs once per batch instead of once
 * per device (signing was two thirds of the node's time in the activation router).
 *
 * - leaf = SHA-256(0x00 ‖ canonical JSON of every field but `signature` and `proof`)
 * - inner = SHA-256(0x01 ‖ left ‖ right); a level's last node without a partner is carried
 *   up unchanged (RFC 6962's prefixes keep a leaf from passing as an inner node)
 * - signed statement = `switchyard-flex-activations/v1\n<nodeId>\n<size>\n<root base64>`:
 *   it cannot be mistaken for anything else the key signs (peer envelopes are canonical JSON,
 *   which starts with `{`), and it names the node and the batch's size, so a path of one
 *   batch size cannot be replayed against another.
 * A body binds its device (`deviceId`, `nodeId`), so a device cannot pass off a sibling's leaf.
 */
export const ACTIVATION_STATEMENT_CONTEXT = "switchyard-flex-activations/v1";
export const MAX_BATCH = 65_536;

// crypto.hash (Node ≥ 20.12) is a third cheaper than a Hash object per digest.
const sha256: (data: Buffer) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (data) => (crypto as unknown as { hash: (a: string, d: Buffer, e: "buffer") => Buffer }).hash("sha256", data, "buffer")
    : (data) => crypto.createHash("sha256").update(data).digest();
/** What a message's leaf covers: every member but these. */
export const UNSIGNED_MEMBERS: ReadonlySet<string> = new Set(["signature", "proof"]);
const leafHash = (signed: unknown) => {
  const json = canonicalJson(signed, UNSIGNED_MEMBERS);
  const data = Buffer.allocUnsafe(1 + Buffer.byteLength(json));
  data[0] = 0;
  data.write(json, 1, "utf8");
  return sha256(data);
};
/** 0x01 ‖ left ‖ right, in one reused buffer (hashing is synchronous). */
const pair = Buffer.alloc(65);
pair[0] = 1;
const innerHash = (left: Buffer, right: Buffer) => {
  left.copy(pair, 1);
  right.copy(pair, 33);
  return sha256(pair);
};
const sibling64 = Buffer.alloc(32);

/** What the node signs for a batch; `root64` is the root hash in base64. */
export const activationStatement = (nodeId: string, size: number, root64: string) => Buffer.from(`${ACTIVATION_STATEMENT_CONTEXT}\n${nodeId}\n${size}\n${root64}`);

/** Signs `bodies` (all from `nodeId`) as one batch; returns their messages in order. */
export const signActivationBatch = (key: KeyObject, nodeId: string, bodies: ActivationBody[]): ActivationMessage[] => {
  const size = bodies.length;
  if (size === 0) return [];
  if (size > MAX_BATCH) throw new Error(`an activation batch holds at most ${MAX_BATCH} messages`);
  let level: Buffer[] = bodies.map((b) => {
    if (b.nodeId !== nodeId) throw new Error(`activation for ${b.deviceId} names node ${b.nodeId}, not ${nodeId}`);
    return leafHash(b);
  });
  // levels64[k][i]: node i of level k, base64, as the paths carry it.
  const levels64: string[][] = [];
  while (level.length > 1) {
    levels64.push(level.map((h) => h.toString("base64")));
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(i + 1 < level.length ? innerHash(level[i], level[i + 1]) : level[i]);
    level = up;
  }
  const signature = sign(null, activationStatement(nodeId, size, level[0].toString("base64")), key).toString("base64");
  return bodies.map((body, index) => {
    const path: string[] = [];
    let i = index;
    for (const nodes of levels64) {
      const sibling = i ^ 1;
      if (sibling < nodes.length) path.push(nodes[sibling]);
      i >>= 1;
    }
    return { ...body, proof: { index, size, path }, signature };
  });
};

/**
 * The root (base64) a path leads to from a message as received (its `signature` and `proof`
 * left out), or undefined if the path does not fit the batch's shape.
 */
export const activationRoot = (signed: unknown, proof: ActivationProof): string | undefined => {
  let hash: Buffer = leafHash(signed);
  let i = proof.index;
  let count = proof.size;
  let k = 0;
  if (i >= count) return undefined;
  while (count > 1) {
    const sibling = i ^ 1;
    if (sibling < count) {
      const other = proof.path[k++];
      // 44 base64 characters ending in one "=" (the schema) that decode to exactly 32 bytes.
      if (other === undefined || other.length !== 44 || other.charCodeAt(43) !== 61 /* = */ || other.charCodeAt(42) === 61 || sibling64.write(other, 0, "base64") !== 32) return undefined;
      hash = i & 1 ? innerHash(sibling64, hash) : innerHash(hash, sibling64);
    }
    i >>= 1;
    count = Math.ceil(count / 2);
  }
  return k === proof.path.length ? hash.toString("base64") : undefined;
};

/**
 * A bounded memo in two generations: entries go into `young`; when it holds half the
 * capacity it becomes `old` (the previous `old` is dropped) and a hit in `old` is moved back.
 * O(1) per call (evicting one entry at a time from a Map's front walks the holes that earlier
 * evictions left).
 */
const generations = <V>(capacity: number) => {
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  const set = (key: string, value: V) => {
    young.set(key, value);
    if (young.size >= capacity / 2) {
      old = young;
      young = new Map();
    }
  };
  return {
    get: (key: string) => {
      const hit = young.get(key);
      if (hit !== undefined) return hit;
      const aged = old.get(key);
      if (aged !== undefined) set(key, aged);
      return aged;
    },
    set,
  };
};

/** Checks a statement's Ed25519 signature. */
export type StatementVerifier = (statement: Buffer, signature: string) => boolean;

export const verifyStatement =
  (nodeKey: KeyObject): StatementVerifier =>
  (statement, signature) => {
    try {
      return verify(null, statement, nodeKey, Buffer.from(signature, "base64"));
    } catch {
      return false;
    }
  };

/**
 * A verifier that remembers its last `capacity` answers. Verifying is a pure function of
 * (key, statement, signature), so remembering changes no answer, only who pays for it: the
 * device simulator runs thousands of devices in one process, where the first device of a
 * batch pays the Ed25519 check and its siblings (each on a CPU of its own in the field)
 * reuse it. Every device still hashes its own body and checks its own path. A flood of one
 * forged message also costs one check.
 */
export const rememberingVerifier = (inner: StatementVerifier, capacity = 4096): StatementVerifier => {
  const known = generations<boolean>(capacity);
  return (statement, signature) => {
    const key = `${signature}\n${statement.toString("latin1")}`;
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    const ok = inner(statement, signature);
    known.set(key, ok);
    return ok;
  };
};
