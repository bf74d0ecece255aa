import type { IPublishPacket, MqttClient } from "mqtt";
import { envelopeSchema, parseStationTopic, type Envelope, type ErrorEnvelope, type OcppVersion, type ResultEnvelope } from "../../../contracts/csms/mqtt";
import type { Broadcast } from "./broadcast";
import type { createCalls } from "./calls";
import type { ManagerContext, StationState } from "./context";
import type { createDispatch } from "./dispatch";
import { actionLabel, CallRefused, parsePayload, unstorableField } from "./input";
import type { Ownership } from "./ownership";
import type { createPresence } from "./presence";
import type { StationCache } from "./station-cache";
import type { Store } from "./store";
import type { CallBasics } from "./transactions";

type Deps = {
  store: Store;
  view: StationCache;
  broadcast: Broadcast;
  basics: CallBasics;
  calls: ReturnType<typeof createCalls>;
  dispatch: ReturnType<typeof createDispatch>;
  presence: ReturnType<typeof createPresence>;
  ownership: Ownership;
};

/**
 * Every MQTT message the manager receives: routed by topic, validated against its contract
 * (contracts/csms/mqtt.ts), station messages handled in order per station and answered.
 */
export const createInbound = (ctx: ManagerContext, { store, view, broadcast, basics, calls, dispatch, presence, ownership }: Deps) => {
  const { log, metrics, shouldLog, prefix, topics, managerId } = ctx;

  /**
   * Station CALLs arrive at least once (QoS 1 redelivery after a restart, the gateway's
   * retry of an unanswered CALL). A repeat of one being handled is dropped (its answer is
   * coming); a repeat of one already answered gets that answer again, not a second handling.
   */
  const recentCalls = new Map<string, { answer?: string }>();
  const repeatedCall = (version: OcppVersion, stationId: string, id: string) => {
    const key = `${stationId}\n${id}`;
    const seen = recentCalls.get(key);
    if (seen) {
      metrics.repeatedCalls.inc();
      if (seen.answer) void broadcast.publishRaw(topics.out(version, stationId), seen.answer);
      return true;
    }
    recentCalls.set(key, {});
    if (recentCalls.size > 20_000) recentCalls.delete(recentCalls.keys().next().value!);
    return false;
  };
  const rememberAnswer = (stationId: string, id: string, answer: string) => {
    const seen = recentCalls.get(`${stationId}\n${id}`);
    if (seen) seen.answer = answer;
  };

  const touch = async (st: StationState, version: OcppVersion) => {
    const now = new Date();
    const wasOnline = st.emittedOnline ?? view.isOnline(st.id, st.lastSeenAt, st.heartbeatIntervalSec);
    st.lastSeenAt = now;
    store.dirtySeen.set(st.id, now);
    await basics.ensureRow(st, version);
    if (!wasOnline) broadcast.emitStation(st);
  };

  const onStationMessage = (version: OcppVersion, stationId: string, env: Envelope) =>
    ctx.serial(stationId, async () => {
      const st = await view.getStation(stationId);
      await touch(st, version);
      if (env.type === 2) {
        const started = performance.now();
        let answer: ResultEnvelope | ErrorEnvelope;
        try {
          const unstorable = unstorableField(env.request);
          if (unstorable) throw new CallRefused("PropertyConstraintViolation", `${unstorable}: contains a NUL character (\\u0000), which cannot be stored`, "unstorable");
          answer = { type: 3, id: env.id, response: await calls.handleCall(version, st, env.action, env.request) };
          metrics.calls.inc({ action: actionLabel(env.action), outcome: "result" });
        } catch (error) {
          if (error instanceof CallRefused) {
            metrics.refusedCalls.inc({ reason: error.reason });
            if (shouldLog(`refused:${stationId}:${error.reason}`)) log.warn({ stationId, action: env.action, code: error.code, err: error.message }, "station call refused");
            answer = { type: 4, id: env.id, error_code: error.code, error_description: error.message };
          } else {
            if (shouldLog(`call-fail:${stationId}`)) log.warn({ stationId, action: env.action, err: (error as Error).message }, "station call failed");
            answer = { type: 4, id: env.id, error_code: "InternalError", error_description: "the CSMS could not handle the call" };
          }
          metrics.calls.inc({ action: actionLabel(env.action), outcome: "error" });
        }
        store.logFrame(stationId, "out", answer);
        const text = JSON.stringify(answer);
        rememberAnswer(stationId, env.id, text);
        await broadcast.publishRaw(topics.out(version, stationId), text);
        metrics.callDuration.observe({ action: actionLabel(env.action) }, (performance.now() - started) / 1000);
        broadcast.liveStation(st);
        if (env.action === "BootNotification" && version === "ocpp2.0.1" && answer.type === 3 && [...st.txs.values()].some((t) => t.active)) {
          // After the station has settled (its status sync comes first).
          setTimeout(() => void calls.checkOpenTransactions(stationId).catch((error: Error) => log.warn({ stationId, err: error.message }, "checking open transactions failed")), 2000).unref();
        }
        return;
      }
      // The answer to a manager CALL.
      if (env.type === 3 && !unstorableField(env.response)) await calls.applyResult(st, env).catch((error: Error) => log.warn({ stationId, err: error.message }, "storing a call result failed"));
      broadcast.liveStation(st);
      const owner = env.id.includes(":") ? env.id.slice(0, env.id.indexOf(":")) : undefined;
      if (owner === managerId) dispatch.resolvePending(env);
      else if (owner && /^[A-Za-z0-9_-]{1,8}$/.test(owner)) {
        metrics.forwarded.inc();
        await broadcast.publishRaw(topics.reply(owner), JSON.stringify(env));
      }
    });

  let probeReceived: (() => void) | undefined;

  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    metrics.mqttMessages.inc({ direction: "received" });
    if (topic.startsWith(`${prefix}/presence/`)) return presence.onPresence(topic, topic.slice(prefix.length + "/presence/".length), payload, packet.retain);
    if (topic.startsWith(`${prefix}/gateway/`)) return presence.onGatewayStatus(topic, payload);
    if (topic.startsWith(`${prefix}/feed/`)) {
      if (topic !== topics.feed(managerId) && !ownership.onFeed(topic, payload)) view.onForeignEvent(topic, payload);
      return;
    }
    if (topic === topics.probe(managerId)) return probeReceived?.();
    const isReply = topic === topics.reply(managerId);
    const where = isReply ? undefined : parseStationTopic(prefix, topic);
    if (!isReply && (!where || where.direction !== "in")) return ctx.dropBad("envelope", "topic", topic);
    // Affinity: every manager gets every station message; only the owner reads past the topic.
    // (A CALLRESULT to another manager's CALL is forwarded to it by the owner, below.)
    if (where && !ownership.owns(where.stationId)) return void metrics.notOwner.inc();
    const parsed = parsePayload(envelopeSchema, payload);
    if (!parsed.ok) return ctx.dropBad("envelope", parsed.reason, topic, parsed.detail);
    const env = parsed.data as Envelope;
    if (isReply) {
      if (env.type !== 2) dispatch.resolvePending(env);
      return;
    }
    if (env.type === 2 && repeatedCall(where!.version, where!.stationId, env.id)) return;
    store.logFrame(where!.stationId, "in", env);
    void onStationMessage(where!.version, where!.stationId, env);
  };

  /** Shared subscriptions are only trusted after a probe message actually arrives through one. */
  const probeShared = async (client: MqttClient) => {
    const probeTopic = topics.probe(managerId);
    const granted = await client.subscribeAsync(`$share/probe-${managerId}/${probeTopic}`, { qos: 0 });
    if (granted.some((g) => g.qos >= 128)) return false;
    const got = new Promise<boolean>((resolve) => {
      probeReceived = () => resolve(true);
      setTimeout(() => resolve(false), 2000).unref();
    });
    await client.publishAsync(probeTopic, "probe", { qos: 0 });
    const ok = await got;
    probeReceived = undefined;
    await client.unsubscribeAsync(`$share/probe-${managerId}/${probeTopic}`).catch(() => {});
    return ok;
  };

  return { onMessage, probeShared };
};
