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
  const view = createStationCache(ctx, { store, tokens });
  const broadcast = createBroadcast(ctx, { view });
  const basics = createCallBasics(ctx, { store, broadcast });
  const dispatch = createDispatch(ctx, { store, view, broadcast });
  const calls = createCalls({ ctx, store, view, broadcast, tokens, basics }, { callStation: dispatch.callStation });
  const presence = createPresence(ctx, { store, view, broadcast });
  const inbound = createInbound(ctx, { store, view, broadcast, basics, calls, dispatch, presence });

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
  mqtt.on("offline", () => log.warn({ mqttUrl: opts.mqttUrl }, "manager mqtt offline"));
  mqtt.on("error", (error) => log.warn({ err: error.message }, "manager mqtt error"));

  shared = await inbound.probeShared(mqtt).catch(() => false);
  const inTopic = shared ? `$share/${group}/${topics.inWildcard}` : topics.inWildcard;
  if (!shared) log.warn({ mqttUrl: opts.mqttUrl, mqttVersion }, "broker does not deliver $share subscriptions; using a plain subscription (run one manager only)");
  void view.warmUp().catch((error: Error) => log.warn({ err: error.message }, "warming the station cache failed"));
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
    await mqtt.endAsync(true).catch(() => {});
    store.stopTimers();
    broadcast.stop();
    presence.stopSweep();
    feed.close();
    throw error;
  }
  const url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  log.info({ url, managerId, mqttUrl: opts.mqttUrl, prefix: ctx.prefix, shared, mqttVersion }, "csms manager started");

  let closingPromise: Promise<void> | undefined;
  const close = () =>
    (closingPromise ??= (async () => {
      state.closing = true;
      presence.stopSweep();
      broadcast.stop();
      store.stopTimers();
      dispatch.abandonPending();
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
