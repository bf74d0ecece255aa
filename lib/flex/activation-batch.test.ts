import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { canonicalJson } from "../../contracts/flex/canonical";
import type { ActivationBody, ActivationMessage } from "../../contracts/flex/mqtt";
import { activationRoot, activationStatement, rememberingVerifier, signActivationBatch, verifyStatement } from "./activation-batch";
import { checkActivation } from "./check-activation";

const { privateKey, publicKey: nodeKey } = generateKeyPairSync("ed25519");
const otherKey = () => generateKeyPairSync("ed25519").privateKey;
const now = Date.now();
const bodyOf = (i: number, nodeId = "n1"): ActivationBody => ({ deviceId: `dev-${i}`, nodeId, seq: now + i, stepTs: now, setpointW: -1000 - i, validUntil: now + 60_000, tradeIds: ["t1"] });
const check = (m: unknown, deviceId: string, extra: Partial<Parameters<typeof checkActivation>[1]> = {}) =>
  checkActivation(JSON.stringify(m), { deviceId, nodeId: "n1", nodeKey, lastSeq: -1, pMinW: -5000, pMaxW: 5000, ...extra });

describe("activation batch signatures (one Ed25519 signature over a Merkle root)", () => {
  it("every message of batches of 1 to 200 checks out, with one signature per batch and a path of ⌈log2 n⌉ hashes", () => {
    for (const n of [1, 2, 3, 5, 8, 13, 64, 200]) {
      const messages = signActivationBatch(privateKey, "n1", Array.from({ length: n }, (_, i) => bodyOf(i)));
      expect(new Set(messages.map((m) => m.signature)).size).toBe(1);
      for (const m of messages) {
        expect(m.proof.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(check(m, m.deviceId)).toMatchObject({ ok: true });
      }
    }
  });

  it("refuses a changed body, a changed path, a borrowed path, another index or size, another node's key or name", () => {
    const messages = signActivationBatch(privateKey, "n1", Array.from({ length: 7 }, (_, i) => bodyOf(i)));
    const m = messages[2];
    const refused = (x: unknown, deviceId = m.deviceId) => expect(check(x, deviceId)).toMatchObject({ ok: false, reason: "bad_signature" });
    refused({ ...m, setpointW: m.setpointW + 1 });
    refused({ ...m, extra: "field the node never signed" });
    const flipped = Buffer.from(m.proof.path[0], "base64");
    flipped[0] ^= 1;
    refused({ ...m, proof: { ...m.proof, path: [flipped.toString("base64"), ...m.proof.path.slice(1)] } });
    refused({ ...m, proof: messages[3].proof });
    refused({ ...m, proof: { ...m.proof, index: 3 } });
    refused({ ...m, proof: { ...m.proof, size: 8 } });
    refused({ ...m, proof: { ...m.proof, path: m.proof.path.slice(1) } });
    refused({ ...m, proof: { ...m.proof, path: [...m.proof.path, m.proof.path[0]] } });
    // Signed by a key that is not the node's.
    refused(signActivationBatch(otherKey(), "n1", [bodyOf(2)])[0]);
    // The node's key over a batch naming another node: the device's node id does not match.
    expect(check(signActivationBatch(privateKey, "n2", [bodyOf(2, "n2")])[0], m.deviceId)).toMatchObject({ ok: false, reason: "bad_signature" });
    // A sibling's genuine message is not this device's.
    refused(messages[3], m.deviceId);
    // The old scheme (a signature over the body's own canonical JSON) does not pass as a batch of one.
    const { proof: _proof, signature: _sig, ...body } = messages[0];
    refused({ ...body, proof: { index: 0, size: 1, path: [] }, signature: sign(null, Buffer.from(canonicalJson(body)), privateKey).toString("base64") }, body.deviceId);
  });

  it("a malformed proof is malformed, not a crash", () => {
    const [m] = signActivationBatch(privateKey, "n1", [bodyOf(1)]);
    for (const proof of [undefined, {}, { index: 1, size: 1, path: [] }, { index: 0, size: 1, path: ["short"] }, { index: -1, size: 1, path: [] }, { index: 0, size: 1e9, path: [] }])
      expect(check({ ...m, proof }, m.deviceId)).toMatchObject({ ok: false, reason: "malformed" });
    // 44 characters that are not 32 bytes of base64.
    const bad = signActivationBatch(privateKey, "n1", [bodyOf(1), bodyOf(2)])[0];
    expect(check({ ...bad, proof: { ...bad.proof, path: ["!".repeat(43) + "="] } }, bad.deviceId)).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(check({ ...bad, proof: { ...bad.proof, path: ["A".repeat(44)] } }, bad.deviceId)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("the root a device computes is the one the statement names", () => {
    const messages = signActivationBatch(privateKey, "n1", Array.from({ length: 5 }, (_, i) => bodyOf(i)));
    const roots = new Set(messages.map((m) => activationRoot(m, m.proof)));
    expect(roots.size).toBe(1);
    const [root] = roots;
    expect(verifyStatement(nodeKey)(activationStatement("n1", 5, root!), messages[0].signature)).toBe(true);
    expect(verifyStatement(nodeKey)(activationStatement("n1", 4, root!), messages[0].signature)).toBe(false);
  });

  it("the remembering verifier gives the same answers and checks each statement once", () => {
    const inner = vi.fn(verifyStatement(nodeKey));
    const shared = rememberingVerifier(inner, 8);
    const batches = Array.from({ length: 3 }, (_, b) => signActivationBatch(privateKey, "n1", Array.from({ length: 10 }, (_, i) => bodyOf(b * 10 + i))));
    for (const messages of batches) for (const m of messages) expect(check(m, m.deviceId, { verifier: shared })).toMatchObject({ ok: true });
    expect(inner).toHaveBeenCalledTimes(3);
    // A forgery is refused just the same, remembered or not.
    const forged: ActivationMessage = { ...batches[0][0], signature: batches[1][0].signature };
    expect(check(forged, forged.deviceId, { verifier: shared })).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(check(forged, forged.deviceId, { verifier: shared })).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(inner).toHaveBeenCalledTimes(4);
    // Bounded: past its capacity old answers are forgotten (and recomputed, identically).
    for (let i = 0; i < 20; i++) shared(activationStatement("n1", 1, Buffer.alloc(32, i).toString("base64")), batches[0][0].signature);
    expect(check(batches[0][0], batches[0][0].deviceId, { verifier: shared })).toMatchObject({ ok: true });
    expect(inner).toHaveBeenCalledTimes(4 + 20 + 1);
  });

  it("refuses to sign a batch with a body of another node", () => {
    expect(() => signActivationBatch(privateKey, "n1", [bodyOf(1), bodyOf(2, "n2")])).toThrow(/names node n2/);
    expect(signActivationBatch(privateKey, "n1", [])).toEqual([]);
  });
});
