import { afterAll, describe, expect, it } from "vitest";
import type { PeerMessage } from "../../../contracts/flex/api";
import { logger } from "../../../lib/log";
import { createPeerBus, type PeerBus } from "../peers";
import { createSigner, generateNodeKeys, importPublicKey } from "../signing";

/**
 * A hostile process that captured a peer envelope (a Redis subscriber on the peer channel,
 * or anything that saw one POST) and sends it again inside the skew window: the signature
 * is still valid, so only a replay check keeps it from being applied twice (a cancelled
 * offer resurrected in the other node's book, an activation re-applied).
 */
const buses: PeerBus[] = [];
afterAll(async () => {
  for (const b of buses) await b.close();
});

describe("flex peer link under attack", () => {
  it("applies a captured envelope once; its replay is refused", async () => {
    const aKeys = generateNodeKeys();
    const bKeys = generateNodeKeys();
    const received: PeerMessage[] = [];
    const rejected: string[] = [];
    const b = await createPeerBus({
      nodeId: "node-b",
      signer: createSigner(bKeys),
      peers: [{ nodeId: "node-a", url: "http://127.0.0.1:1", publicKey: importPublicKey(aKeys.publicKey) }],
      onMessage: (_from, m) => received.push(m),
      onRejected: (reason) => rejected.push(reason),
      log: logger(),
    });
    buses.push(b);
    const signer = createSigner(aKeys);
    const body = { from: "node-a", to: "node-b", sentAt: Date.now(), messages: [{ type: "offers", upserts: [], removed: ["dev-1:o-1"] }] as PeerMessage[] };
    const captured = { ...body, signature: signer.sign(body) };
    expect(b.receive(structuredClone(captured))).toEqual({ ok: true });
    expect(b.receive(structuredClone(captured))).toEqual({ ok: false, reason: "replayed" });
    expect(received).toHaveLength(1);
    expect(rejected).toEqual(["replayed"]);
    // A fresh envelope with the same content (a new sentAt, a new signature) still passes.
    const again = { ...body, sentAt: body.sentAt + 1 };
    expect(b.receive({ ...again, signature: signer.sign(again) })).toEqual({ ok: true });
    expect(received).toHaveLength(2);
  });
});
