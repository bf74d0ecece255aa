import { afterEach, describe, expect, it } from "vitest";
import type { ActivationStep, Allocation, Trade } from "../../contracts/flex/entities";
import type { ActivationMessage } from "../../contracts/flex/mqtt";
import { checkActivation } from "../../lib/flex/check-activation";
import { createActivationRouter, type ActivationRouter } from "./activation";
import { createSigner, generateNodeKeys, importPublicKey } from "./signing";

/** The device half's pipelined sending: every device its setpoint once, in seq order, still signed. */
const keys = generateNodeKeys();
const nodeKey = importPublicKey(keys.publicKey);
const DEVICES = 25;
const ids = Array.from({ length: DEVICES }, (_, i) => `dev-${String(i).padStart(2, "0")}`);
const allocations: Allocation[] = ids.map((deviceId, i) => ({ offerId: `${deviceId}:o1`, deviceId, nodeId: "n1", quantityW: 1000, unitPrice: 10 + i, baselineW: 0 }));
const tradeOf = (id: string): Trade => ({ id, nodeId: "n1", requestId: "r1", buyerId: "tso-1", bundleId: "b1", gridNodeId: "gn-1", direction: "down", quantityW: DEVICES * 1000, clearingPrice: 50, period: 0, periodEnd: Date.now() + 600_000, deviceCount: DEVICES, status: "awarded", awardedAt: 0 });
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const routers: ActivationRouter[] = [];
afterEach(() => {
  for (const r of routers.splice(0)) r.close();
});

const setup = (sendChunk: number) => {
  const sent: ActivationMessage[] = [];
  const steps: ActivationStep[] = [];
  const router = createActivationRouter({
    nodeId: "n1",
    signer: createSigner(keys),
    stepMs: 2000,
    ackTimeoutMs: 60_000,
    sendChunk,
    device: (id) => (ids.includes(id) ? { pMinW: -5000, pMaxW: 5000 } : undefined),
    publish: (_deviceId, m) => sent.push(m),
    onStep: (s) => steps.push(s),
    onRejected: () => {},
  });
  routers.push(router);
  return { router, sent, steps };
};

describe("activation router: chunked signing", () => {
  it("sends the first chunk at once, then every device exactly once, each verifiable", async () => {
    const { router, sent } = setup(10);
    const step = router.stepTrade(tradeOf("t1"), allocations, DEVICES * 1000, Date.now());
    expect(sent).toHaveLength(10);
    expect(router.queued()).toBe(DEVICES - 10);
    await turns();
    expect(router.queued()).toBe(0);
    expect(sent.map((m) => m.deviceId).sort()).toEqual(ids);
    for (const m of sent) {
      const checked = checkActivation(JSON.stringify(m), { deviceId: m.deviceId, nodeId: "n1", nodeKey, lastSeq: -1, pMinW: -5000, pMaxW: 5000 });
      expect(checked.ok).toBe(true);
      expect(m.setpointW).toBe(1000);
      expect(m.stepTs).toBe(step.stepTs);
    }
  });

  it("a step queued over an unsent one sends each device once; seq rises per device; replays and forgeries are refused", async () => {
    const { router, sent, steps } = setup(10);
    const trade = tradeOf("t2");
    const t0 = Date.now();
    router.stepTrade(trade, allocations, DEVICES * 1000, t0);
    router.stepTrade(trade, allocations, DEVICES * 500, t0 + 1);
    await turns();
    // The first chunk went out for both steps; the other 15 devices were queued twice and sent once.
    expect(sent).toHaveLength(10 + DEVICES);
    const byDevice = new Map<string, ActivationMessage[]>();
    for (const m of sent) byDevice.set(m.deviceId, [...(byDevice.get(m.deviceId) ?? []), m]);
    for (const [deviceId, list] of byDevice) {
      expect(list.at(-1)!.stepTs).toBe(t0 + 1);
      for (let i = 1; i < list.length; i++) expect(list[i].seq).toBeGreaterThan(list[i - 1].seq);
      const last = list.at(-1)!;
      const opts = { deviceId, nodeId: "n1", nodeKey, pMinW: -5000, pMaxW: 5000 };
      expect(checkActivation(JSON.stringify(last), { ...opts, lastSeq: -1 }).ok).toBe(true);
      // Replayed: the same message (or an older one) again.
      expect(checkActivation(JSON.stringify(list[0]), { ...opts, lastSeq: last.seq })).toMatchObject({ ok: false, reason: "replayed" });
      // Forged: any field changed after signing.
      expect(checkActivation(JSON.stringify({ ...last, setpointW: 4000 }), { ...opts, lastSeq: -1 })).toMatchObject({ ok: false, reason: "bad_signature" });
    }
    // The first step: its 10 sent devices superseded (late), the 15 queued ones superseded before sending (late).
    for (const m of sent.filter((x) => x.stepTs === t0 + 1)) router.onDeviceAck(m.deviceId, { seq: m.seq, stepTs: m.stepTs, status: "ok", powerW: 0, at: Date.now() });
    const first = steps.filter((s) => s.stepTs === t0).at(-1)!;
    const second = steps.filter((s) => s.stepTs === t0 + 1).at(-1)!;
    expect(first).toMatchObject({ closed: true, late: DEVICES, acked: 0 });
    expect(second).toMatchObject({ closed: true, acked: DEVICES, late: 0 });
  });

  it("two trades sharing devices: one setpoint carries both shares and its ack answers both", async () => {
    const { router, sent, steps } = setup(100);
    const t = Date.now();
    router.stepTrade(tradeOf("ta"), allocations, DEVICES * 1000, t);
    router.stepTrade(tradeOf("tb"), allocations, DEVICES * 1000, t);
    await turns();
    const latest = new Map(sent.map((m) => [m.deviceId, m]));
    expect(latest.size).toBe(DEVICES);
    for (const m of latest.values()) {
      expect(m.setpointW).toBe(2000);
      expect(m.tradeIds.sort()).toEqual(["ta", "tb"]);
      router.onDeviceAck(m.deviceId, { seq: m.seq, stepTs: m.stepTs, status: "ok", powerW: 0, at: Date.now() });
    }
    for (const id of ["ta", "tb"]) expect(steps.filter((s) => s.tradeId === id).at(-1)).toMatchObject({ closed: true, acked: DEVICES });
  });
});
