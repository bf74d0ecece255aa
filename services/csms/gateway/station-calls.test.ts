import { afterEach, describe, expect, it, vi } from "vitest";
import type { OcppVersion } from "../../../contracts/csms/mqtt";
import { fakeGateway, fakeSession } from "./fake-context";
import { createTokenBucket, DEFAULT_RATE_LIMIT } from "./rate-limit";
import { createStationCallHandler } from "./station-calls";

/**
 * station-calls.ts on its own: a fake MQTT link that records what is published and a fake
 * station socket; the manager's answers are given by hand. Fake timers for retry/timeout.
 */

const CALL_TIMEOUT_MS = 10_000;
const RETRY_MS = 1000;

const setup = (protocol: OcppVersion = "ocpp1.6", { connected = true, bucket = createTokenBucket(DEFAULT_RATE_LIMIT), refused = "pause" as "pause" | "disconnect" } = {}) => {
  const gw = fakeGateway({ callTimeoutMs: CALL_TIMEOUT_MS, retryMs: RETRY_MS });
  gw.mqtt.connected = connected;
  const { session, entry, closes } = fakeSession(gw.ctx, { protocol, bucket, refused });
  const handle = createStationCallHandler(gw.ctx, gw.link)(entry, session);
  return { ...gw, session, closes, handle, topic: gw.ctx.topics.in(protocol, "S1") };
};

afterEach(() => {
  vi.useRealTimers();
});

describe("station → manager CALLs", () => {
  it("publishes the CALL on the station's in topic and answers with the manager's result", async () => {
    const s = setup();
    const answer = s.handle({ method: "Heartbeat", params: {}, messageId: "m1" });
    await vi.waitFor(() => expect(s.session.pending.has("m1")).toBe(true));
    expect(s.published).toEqual([{ topic: s.topic, body: { type: 2, action: "Heartbeat", id: "m1", request: {} } }]);
    s.session.pending.get("m1")!.resolve({ currentTime: "2026-12-01T00:00:00.000Z" });
    await expect(answer).resolves.toEqual({ currentTime: "2026-12-01T00:00:00.000Z" });
    expect(s.session.pending.size).toBe(0);
  });

  it("passes the manager's CALLERROR on", async () => {
    const s = setup("ocpp2.0.1");
    const answer = s.handle({ method: "Authorize", params: { idToken: { idToken: "X", type: "ISO14443" } }, messageId: "m2" });
    await vi.waitFor(() => expect(s.session.pending.has("m2")).toBe(true));
    s.session.pending.get("m2")!.reject(Object.assign(new Error("nope"), { rpcErrorCode: "SecurityError" }));
    await expect(answer).rejects.toMatchObject({ rpcErrorCode: "SecurityError" });
    expect(s.session.pending.size).toBe(0);
  });

  it("refuses a message id longer than 36 characters in the station's protocol spelling, publishing nothing", async () => {
    for (const [protocol, code] of [
      ["ocpp1.6", "FormationViolation"],
      ["ocpp2.0.1", "FormatViolation"],
    ] as const) {
      const s = setup(protocol);
      await expect(s.handle({ method: "Heartbeat", params: {}, messageId: "x".repeat(37) })).rejects.toMatchObject({ rpcErrorCode: code });
      expect(s.published).toEqual([]);
    }
  });

  it("answers InternalError at once while the broker is down", async () => {
    const s = setup("ocpp1.6", { connected: false });
    await expect(s.handle({ method: "Heartbeat", params: {}, messageId: "m3" })).rejects.toMatchObject({ rpcErrorCode: "InternalError" });
    expect(s.published).toEqual([]);
  });

  it("refuses a rate-limited station with SecurityError and closes a flooding one with 1008", async () => {
    const empty = { take: () => false } as ReturnType<typeof createTokenBucket>;
    const paused = setup("ocpp1.6", { bucket: empty, refused: "pause" });
    await expect(paused.handle({ method: "Heartbeat", params: {}, messageId: "m4" })).rejects.toMatchObject({ rpcErrorCode: "SecurityError" });
    expect(paused.closes).toEqual([]);
    expect(await paused.metric("csms_gateway_rate_limited_total")).toBe(1);

    const flooding = setup("ocpp1.6", { bucket: empty, refused: "disconnect" });
    await expect(flooding.handle({ method: "Heartbeat", params: {}, messageId: "m5" })).rejects.toMatchObject({ rpcErrorCode: "SecurityError" });
    await expect(flooding.handle({ method: "Heartbeat", params: {}, messageId: "m6" })).rejects.toMatchObject({ rpcErrorCode: "SecurityError" });
    // Closed once, however many frames were already buffered.
    expect(flooding.closes).toEqual([{ code: 1008, reason: "rate limit exceeded" }]);
    expect(flooding.session.kicked).toBe(true);
    expect(flooding.published).toEqual([]);
  });

  it("publishes an unanswered CALL again every retryMs until the answer, then times out the next one", async () => {
    vi.useFakeTimers();
    const s = setup();
    const answer = s.handle({ method: "StatusNotification", params: { connectorId: 1 }, messageId: "m7" });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(RETRY_MS * 2);
    expect(s.published).toHaveLength(3);
    // The same envelope (same id) each time: the manager answers a repeat once.
    expect(new Set(s.published.map((p) => JSON.stringify(p))).size).toBe(1);
    s.session.pending.get("m7")!.resolve({});
    await expect(answer).resolves.toEqual({});
    await vi.advanceTimersByTimeAsync(RETRY_MS * 3);
    expect(s.published).toHaveLength(3);

    const late = s.handle({ method: "Heartbeat", params: {}, messageId: "m8" });
    const outcome = expect(late).rejects.toMatchObject({ rpcErrorCode: "InternalError" });
    await vi.advanceTimersByTimeAsync(CALL_TIMEOUT_MS);
    await outcome;
    expect(s.session.pending.size).toBe(0);
    expect(await s.metric("csms_gateway_call_timeouts_total")).toBe(1);
  });

  it("gives up a pending CALL when the station disconnects", async () => {
    const s = setup();
    const abort = new AbortController();
    const answer = s.handle({ method: "Heartbeat", params: {}, messageId: "m9", signal: abort.signal });
    await vi.waitFor(() => expect(s.session.pending.has("m9")).toBe(true));
    abort.abort();
    await expect(answer).rejects.toThrow("station disconnected");
    expect(s.session.pending.size).toBe(0);
  });
});
