import http from "node:http";
import type { AddressInfo } from "node:net";
import { urlHost, withTimeout } from "../../../lib/net";
import { createApi } from "./api";
import { createBroadcast } from "./broadcast";
import { createTokens } from "./calls-auth";
import { createCalls } from "./calls";
import { createContext, type ManagerOptions } from "./context";
import { createDispatch } from "./dispatch";
import { createInbound } from "./inbound";
import { connectManagerMqtt } from "./mqtt-link";
import { createOwnership } from "./ownership";
import { createPresence } from "./presence";
import { createStationCache } from "./station-cache";
import { createStore } from "./store";
import { createCallBasics } from "./transactions";

/**
 * The CSMS manager, wired from its parts (services/csms/README.md):
 *   context.ts        options, shared state (station map, presence, MQTT client), metrics, per-station queue
 *   store.ts          what is written behind: message log, samples, state (write-behind.ts), running values
 *   station-cache.ts  the in-memory view: warm-up, loading, freshness, views, other managers' feed events
 *   broadcast.ts      the live feed (SSE + the other managers), coalesced live figures
 *   transactions.ts   helpers of every CALL family (rows, connector ids, transactions, samples)
 *   calls*.ts         station CALLs: boot / heartbeat / status, authorize, 1.6 transactions + meter
 *                     values, 2.0.1 TransactionEvent, the rest; calls.ts dispatches by action
 *   dispatch.ts       manager CALLs to stations and their outcomes (commands)
 *   presence.ts       online / offline: presence, gateway liveness, the offline sweep
 *   inbound.ts        MQTT routing, validation, ordered handling and answers
 */

export type { ManagerOptions } from "./context";
export type { CommandResult } from "./dispatch";
export type { ConnectorView, MeterEvent, StationView, TransactionView } from "../../../contracts/csms/api";

export type Manager = {
  url: string;
  managerId: string;
  /** True when the broker honours `$share` (the in-topics are load-balanced across managers). */
  sharedSubscription: () => boolean;
  /** Writes every batched row (message log, samples, last-seen) to the database now. */
  flush: () => Promise<void>;
  /** Flushes batches, stops HTTP, SSE and MQTT. Does not close `db`. Idempotent. */
  close: () => Promise<void>;
};

export const startManager = async (opts: ManagerOptions): Promise<Manager> => {
  const ctx = createContext(opts);
  const { log, db, state, feed, metrics, managerId, topics } = ctx;
  const host = opts.host ?? "127.0.0.1";
  const group = opts.shareGroup ?? "manager";
  const durable = opts.durableSession ?? opts.managerId !== undefined;

  const store = createStore(ctx);
  const tokens = createTokens(ctx);
  // Flushes what a handover needs in the database: the write-behind state and the batches.
  const flushWrites = async () => {
    await store.writes.flush();
    await store.flushBatches();
  };
  const ownership = createOwnership(ctx, { flushWrites });
  const view = createStationCache(ctx, { store, tokens, ownership });
  const broadcast = createBroadcast(ctx, { view });
  const basics = createCallBasics(ctx, { store, broadcast });
  const dispatch = createDispatch(ctx, { store, view, broadcast });
  const calls = createCalls({ ctx, store, view, broadcast, tokens, basics }, { callStation: dispatch.callStation });
  const presence = createPresence(ctx, { store, view, broadcast, ownership });
  const inbound = createInbound(ctx, { store, view, broadcast, basics, calls, dispatch, presence, ownership });

  const flush = async () => {
    await store.writes.flush();
    await Promise.all([store.flushBatches(), dispatch.commandRecords.flush()]);
  };

  // ---------- MQTT ----------

  let shared = false;
  let mqttVersion: 4 | 5 = 5;
  try {
    const link = await connectManagerMqtt({
      url: opts.mqttUrl,
      clientId: managerId,
      username: opts.mqttUsername,
      password: opts.mqttPassword,
      durable,
      sessionExpirySec: opts.sessionExpirySec ?? 600,
      connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
      will: ownership.will(),
      log,
    });
    state.mqtt = link.client;
    mqttVersion = link.version;
  } catch (error) {
    store.stopTimers();
    broadcast.stop();
    feed.close();
    throw error;
  }
  const mqtt = state.mqtt;
  mqtt.on("message", inbound.onMessage);
  mqtt.on("reconnect", () => log.info({ mqttUrl: opts.mqttUrl }, "manager mqtt reconnecting"));
  // The first connect happened before this handler: every "connect" here is a reconnect.
  mqtt.on("connect", () => ownership.rejoined());
  mqtt.on("offline", () => log.warn({ mqttUrl: opts.mqttUrl }, "manager mqtt offline"));
  mqtt.on("error", (error) => log.warn({ err: error.message }, "manager mqtt error"));

  const sharedTopic = `$share/${group}/${topics.inWildcard}`;
  let inTopic: string;
  void view.warmUp().catch((error: Error) => log.warn({ err: error.message }, "warming the station cache failed"));
  if (ownership.enabled) {
    // Affinity: the feed first, announce, let peers answer; then every station message,
    // of which this manager handles the stations it owns (ownership.ts).
    inTopic = topics.inWildcard;
    await mqtt.subscribeAsync({ [topics.feedWildcard]: { qos: 0 } });
    await ownership.join();
    // A durable session may still hold the shared subscription of an earlier run.
    await mqtt.unsubscribeAsync(sharedTopic).catch(() => {});
  } else {
    shared = await inbound.probeShared(mqtt).catch(() => false);
    inTopic = shared ? sharedTopic : topics.inWildcard;
    if (!shared) log.warn({ mqttUrl: opts.mqttUrl, mqttVersion }, "broker does not deliver $share subscriptions; using a plain subscription (run one manager only)");
    else await mqtt.unsubscribeAsync(topics.inWildcard).catch(() => {});
  }
  await mqtt.subscribeAsync({ [inTopic]: { qos: 1 }, [topics.presenceWildcard]: { qos: 1 }, [topics.gatewayWildcard]: { qos: 1 }, [topics.reply(managerId)]: { qos: 0 }, [topics.feedWildcard]: { qos: 0 } });

  presence.startSweep();
  store.runRetention();

  // ---------- HTTP ----------

  const api = createApi({
    db,
    log,
    feed,
    apiToken: opts.apiToken,
    gatewayToken: opts.gatewayToken,
    openRegistration: opts.openRegistration ?? false,
    registry: metrics.registry,
    metricsToken: opts.metricsToken,
    mqttConnected: () => !!state.mqtt?.connected && !state.closing,
    flush,
    loadViews: view.loadViews,
    countOnline: view.countOnline,
    getStation: view.stationForApi,
    sendCommand: dispatch.sendCommand,
    getCommand: (commandId) => dispatch.getCommand(commandId),
    onRegistered: view.reload,
    onTokenChanged: tokens.changed,
  });
  const server = http.createServer(api);
  server.on("clientError", (_error, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`manager could not listen on ${host}:${opts.port ?? 9410}: ${error.message}`));
      server.once("error", onError);
      server.listen(opts.port ?? 9410, host, () => {
        server.off("error", onError);
        resolve();
      });
    });
  } catch (error) {
    await ownership.leave();
    await mqtt.endAsync(true).catch(() => {});
    store.stopTimers();
    broadcast.stop();
    presence.stopSweep();
    feed.close();
    throw error;
  }
  const url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  log.info({ url, managerId, mqttUrl: opts.mqttUrl, prefix: ctx.prefix, affinity: ownership.enabled ? "station" : "share", shared, mqttVersion }, "csms manager started");

  let closingPromise: Promise<void> | undefined;
  const close = () =>
    (closingPromise ??= (async () => {
      state.closing = true;
      presence.stopSweep();
      broadcast.stop();
      store.stopTimers();
      dispatch.abandonPending();
      if (ownership.enabled) {
        // Stop taking station messages, finish the ones in hand, write them, and only then
        // tell the others (they load these stations from the database after the handover).
        await withTimeout(mqtt.unsubscribeAsync(inTopic), 1000).catch(() => {});
        await withTimeout(Promise.allSettled(ctx.inFlight()), 2000);
        await withTimeout(flushWrites(), 3000).catch(() => {});
        await withTimeout(ownership.leave(), 500).catch(() => {});
      }
      // Stop taking messages, let the ones in hand finish, then write every batch.
      const ended = await withTimeout(mqtt.endAsync().then(() => true), 1000).catch(() => false);
      if (!ended) await mqtt.endAsync(true).catch(() => {});
      await withTimeout(Promise.allSettled(ctx.inFlight()), 2000);
      await store.writes.close().catch(() => {});
      await Promise.allSettled([...store.closeBatches(), dispatch.commandRecords.close()]);
      feed.close();
      server.closeAllConnections();
      await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 1000);
      log.info({ managerId }, "csms manager stopped");
    })());

  return { url, managerId, sharedSubscription: () => shared, flush, close };
};
