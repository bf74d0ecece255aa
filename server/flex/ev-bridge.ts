import "server-only";
import { createPublicKey, randomUUID, type KeyObject } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";
import type { StationView } from "../../contracts/csms/api";
import { deviceTopics, ACK_QOS, type AckMessage, type OfferMessage } from "../../contracts/flex/mqtt";
import { checkActivation } from "../../lib/flex/check-activation";
import { can } from "../../contracts/console/permissions";
import { logger } from "../../lib/log";
import { writeAudit } from "../audit/write-audit";
import { ensureStation, sendChargingCommand } from "../charging/send-command";
import type { CommandActor } from "../commands/submit-command";
import type { ChargingConnector } from "../connectors/csms";
import type { FlexConnector } from "../connectors/flex";
import { createEntityStore, type EntityStore } from "../connectors/kit/store";
import { requireConnector } from "../connectors/kit/registry";
import type { Db } from "../db";
import { env } from "../env";
import { AppError, viaUpstream } from "../errors";

/**
 * The EV-charger bridge (issue 9 item 3): a flex device backed by a real CSMS station. It
 * lives on the console's server side because that is where both connectors and the charging
 * command path are (services never import server/). Per station it
 *
 * - registers a device `ev-<stationId>` (kind ev-charger, `bridgedFrom: csms:<stationId>`)
 *   with the chosen node through the bridge's FSP token, and logs in to the broker as it;
 * - posts offers from the station's live state: up (charge less) down to 0 W from what it
 *   draws now, down (charge more) up to its limit while a car is plugged in;
 * - reports the station's metered power as the device's telemetry (what settlement uses);
 * - verifies every activation like any device (the node's Ed25519 signature over canonical
 *   JSON, a rising `seq`, `validUntil`, the setpoint within limits) and refuses the rest;
 * - turns an accepted setpoint into `setChargingProfile` through the charging command path
 *   (the operator who started the bridge must still hold flex.bridge; a Command row and an
 *   audit entry each), and back to the station's own limit once `validUntil` passes.
 */
export type EvBridgeOptions = {
  db: Db;
  /** The operator who chose the station: the actor of every command the bridge sends. */
  actor: CommandActor;
  stationId: string;
  nodeId: string;
  gridNodeId: string;
  /** The station's own limit (W): the device's pMaxW and what the profile goes back to. */
  maxPowerW: number;
  unitPrice?: number;
  /** Default: the connector's device broker. */
  mqttUrl?: string;
  /** Offer refresh and telemetry cadence. */
  offerEveryMs?: number;
  telemetryEveryMs?: number;
};

export type EvBridgeStatus = {
  stationId: string;
  deviceId: string;
  nodeId: string;
  gridNodeId: string;
  maxPowerW: number;
  startedBy: string;
  startedAt: number;
  connected: boolean;
  meteredW: number | null;
  /** The limit last sent to the station (null: its own). */
  limitW: number | null;
  activations: number;
  refused: Record<string, number>;
  commands: number;
  lastCommandStatus: string | null;
  lastError: string | null;
};

export type EvBridge = { status: () => EvBridgeStatus; close: () => Promise<void> };

const PLUGGED = new Set(["Charging", "SuspendedEV", "SuspendedEVSE", "Preparing", "Occupied", "Finishing"]);
export const bridgeDeviceId = (stationId: string) => `ev-${stationId.replace(/[^A-Za-z0-9._-]/g, "_")}`.slice(0, 64);

/** Readings older than this no longer count (a connector whose session ended stops reporting). */
const METER_FRESH_MS = 60_000;

/** What the station draws now: the sum of its connectors' latest fresh meter readings (the station view's own figure when it has one). */
export const stationMeteredW = (charging: ChargingConnector, stationId: string, now = Date.now()) => {
  const s = charging.store.stations.get(stationId);
  if (s?.powerW !== null && s?.powerW !== undefined) return Math.round(s.powerW);
  let sum = 0;
  for (const m of charging.store.meters.values()) if (m.stationId === stationId && m.powerW !== null && now - new Date(m.at).getTime() < METER_FRESH_MS) sum += m.powerW;
  return Math.round(sum);
};
const pluggedIn = (s: StationView | undefined) => Boolean(s?.connectors.some((c) => PLUGGED.has(c.status)));

export const startEvBridge = async ({ db, actor, stationId, nodeId, gridNodeId, maxPowerW, unitPrice = 120, mqttUrl, offerEveryMs, telemetryEveryMs = 2000 }: EvBridgeOptions): Promise<EvBridge> => {
  const flex: FlexConnector = requireConnector("flex");
  const charging: ChargingConnector = requireConnector("charging");
  await ensureStation(charging, stationId);
  const fsp = flex.bridgeClients.get(nodeId);
  if (!fsp) throw new AppError("PRECONDITION_FAILED", `The console holds no bridge token for flex node ${nodeId} (FLEX_BRIDGE_TOKENS).`, "nodeId");
  const node = flex.store.nodes.get(nodeId);
  if (node && !node.gridNodes.includes(gridNodeId)) throw new AppError("BAD_REQUEST", `Node ${nodeId} serves ${node.gridNodes.join(", ")}, not ${gridNodeId}.`, "gridNodeId");
  const periodMs = node?.periodMs || 600_000;
  const deviceId = bridgeDeviceId(stationId);
  const log = logger().child({ component: "flex-ev-bridge", stationId, deviceId, nodeId });

  const [registered] = (
    await viaUpstream(fsp.registerDevices([{ id: deviceId, kind: "ev-charger", gridNodeId, pMinW: 0, pMaxW: maxPowerW, rampWps: Math.max(1, maxPowerW), bridgedFrom: `csms:${stationId}` }]), `Flex node ${nodeId}`)
  ).devices;
  if (!registered) throw new AppError("UPSTREAM_ERROR", `Flex node ${nodeId} registered no device.`);
  const topics = deviceTopics(deviceId, registered.topicRoot);
  const nodeKey: KeyObject = createPublicKey({ key: Buffer.from(registered.nodePublicKey, "base64"), format: "der", type: "spki" });
  const station = () => charging.store.stations.get(stationId);
  const metered = () => stationMeteredW(charging, stationId);

  const status: EvBridgeStatus = {
    stationId,
    deviceId,
    nodeId,
    gridNodeId,
    maxPowerW,
    startedBy: actor.email,
    startedAt: Date.now(),
    connected: false,
    meteredW: null,
    limitW: null,
    activations: 0,
    refused: {},
    commands: 0,
    lastCommandStatus: null,
    lastError: null,
  };
  let lastSeq = -1;
  let revertTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const brokerUrl = mqttUrl ?? flex.deviceMqttUrl;
  const client: MqttClient = await connectAsync(brokerUrl, {
    clientId: `bridge-${deviceId}`,
    username: registered.username,
    password: registered.password,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    will: { topic: topics.status, payload: Buffer.from(JSON.stringify({ state: "offline", kind: "ev-charger" })), qos: 1, retain: true },
  }).catch((error: Error) => {
    throw new AppError("PRECONDITION_FAILED", `The bridge could not log in to the device broker at ${brokerUrl} as ${registered.username} (${error.message}).`);
  });
  const publish = (topic: string, body: unknown, qos: 0 | 1 = 0, retain = false) => {
    if (client.connected) client.publish(topic, JSON.stringify(body), { qos, retain });
  };
  const online = () => {
    status.connected = true;
    publish(topics.status, { state: "online", at: Date.now(), kind: "ev-charger" }, 1, true);
  };
  client.on("connect", online);
  client.on("close", () => (status.connected = false));
  client.on("error", (error) => (status.lastError = error.message));
  await client.subscribeAsync([topics.activation, topics.offerResult], { qos: 1 });
  online();

  // ---- the station's limit through the charging command path, one command at a time ----
  let inFlight = false;
  let wanted: { limitW: number | null; key: string } | null = null;
  const sendLimit = async () => {
    if (inFlight || !wanted || closed) return;
    const { limitW, key } = wanted;
    wanted = null;
    if (limitW === status.limitW) return;
    const user = await db.user.findUnique({ where: { id: actor.id } });
    if (!user || user.disabled || !can(user.role, "flex.bridge")) {
      status.lastError = `${actor.email} may no longer run the bridge (flex.bridge); nothing was sent to the station`;
      log.warn({ actor: actor.email }, "bridge actor lost flex.bridge; limit not sent");
      return;
    }
    inFlight = true;
    try {
      const { command } = await sendChargingCommand({
        db,
        actor: { id: user.id, email: user.email, role: user.role },
        traceId: randomUUID(),
        charging,
        stationId,
        // No limit of our own: back to the station's.
        spec: { action: "setChargingProfile", params: { limitW: Math.max(1, Math.round(limitW ?? maxPowerW)) } },
        idempotencyKey: key,
        timeoutMs: env().CSMS_COMMAND_TIMEOUT_MS,
        waitForOutcome: true,
      });
      status.commands++;
      status.lastCommandStatus = command.status;
      if (command.status === "accepted") status.limitW = limitW;
      else status.lastError = command.error ?? command.status;
    } catch (error) {
      status.lastError = (error as Error).message;
    } finally {
      inFlight = false;
      void sendLimit();
    }
  };
  const want = (limitW: number | null, key: string) => {
    wanted = { limitW, key };
    void sendLimit();
  };

  // ---- the device interface ----
  const refuse = (reason: NonNullable<AckMessage["reason"]>, seq: number, stepTs: number) => {
    status.refused[reason] = (status.refused[reason] ?? 0) + 1;
    if (Number.isInteger(seq) && seq >= 0) publish(topics.ack, { seq, stepTs, status: "rejected", reason, powerW: metered(), at: Date.now() } satisfies AckMessage, ACK_QOS);
  };
  const onActivation = (payload: Buffer) => {
    const checked = checkActivation(payload, { deviceId, nodeId, nodeKey, lastSeq, pMinW: 0, pMaxW: maxPowerW });
    if (!checked.ok) return refuse(checked.reason, checked.seq, checked.stepTs);
    const { body } = checked;
    lastSeq = body.seq;
    status.activations++;
    // Ack at once (the node's timeout is 1 s): the power reported is what the station draws now.
    publish(topics.ack, { seq: body.seq, stepTs: body.stepTs, status: "ok", powerW: metered(), at: Date.now() } satisfies AckMessage, ACK_QOS);
    // Small changes are not worth a profile each step.
    const idle = body.tradeIds.length === 0;
    const target = idle ? null : body.setpointW;
    if (target === null || status.limitW === null || Math.abs(target - status.limitW) > Math.max(100, maxPowerW * 0.02)) want(target, `flex-bridge:${deviceId}:${body.seq}`);
    clearTimeout(revertTimer);
    revertTimer = setTimeout(() => want(null, `flex-bridge:${deviceId}:${body.seq}:revert`), Math.max(0, body.validUntil - Date.now()));
  };
  client.on("message", (topic, payload) => {
    if (topic === topics.activation) onActivation(payload);
  });

  const offers = () => {
    const s = station();
    const baselineW = metered();
    const periodFrom = (Math.floor(Date.now() / periodMs) + 1) * periodMs;
    const base = { periodFrom, periodTo: periodFrom + 3 * periodMs, unitPrice, minAcceptanceW: 0, baselineW };
    const up = s?.online ? Math.floor(baselineW * 0.9) : 0;
    const down = s?.online && pluggedIn(s) ? Math.floor((maxPowerW - baselineW) * 0.9) : 0;
    const messages: OfferMessage[] = [
      up > 0 ? { offerId: "o-up", direction: "up", quantityW: up, ...base } : { offerId: "o-up", cancel: true },
      down > 0 ? { offerId: "o-down", direction: "down", quantityW: down, ...base, unitPrice: Math.max(0, unitPrice - 20) } : { offerId: "o-down", cancel: true },
    ];
    for (const m of messages) publish(topics.offers, m, 1);
  };
  const telemetry = () => {
    const w = metered();
    status.meteredW = w;
    publish(topics.telemetry, { ts: Date.now(), powerW: w, ...(status.limitW !== null ? { setpointW: status.limitW } : {}) });
    if (!closed && evBridges().has(stationId)) evBridgeStore().upsert({ ...status, refused: { ...status.refused } });
  };
  offers();
  telemetry();
  const offerTimer = setInterval(offers, offerEveryMs ?? Math.min(60_000, Math.max(1000, periodMs / 2)));
  const telemetryTimer = setInterval(telemetry, telemetryEveryMs);
  log.info({ gridNodeId, maxPowerW, actor: actor.email }, "EV-charger bridge started");

  return {
    status: () => ({ ...status, refused: { ...status.refused } }),
    close: async () => {
      clearInterval(offerTimer);
      clearInterval(telemetryTimer);
      clearTimeout(revertTimer);
      // Leave the station as it was: back to its own limit if we had set one.
      if (status.limitW !== null && !inFlight) {
        wanted = { limitW: null, key: `flex-bridge:${deviceId}:stop:${Date.now()}` };
        await sendLimit();
      }
      closed = true;
      publish(topics.offers, { offerId: "o-up", cancel: true }, 1);
      publish(topics.offers, { offerId: "o-down", cancel: true }, 1);
      publish(topics.status, { state: "offline", at: Date.now(), kind: "ev-charger" }, 1, true);
      await client.endAsync().catch(() => {});
      log.info("EV-charger bridge stopped");
    },
  };
};

const g = globalThis as unknown as { __switchyardEvBridges?: Map<string, EvBridge>; __switchyardEvBridgeStore?: EntityStore<EvBridgeStatus> };
/** The bridges this console process runs, by station id (restoreStationBridges starts the saved ones again after a restart). */
export const evBridges = () => (g.__switchyardEvBridges ??= new Map());
/** Each running bridge's status, for the page's live table (refreshed with every telemetry tick). */
export const evBridgeStore = () => (g.__switchyardEvBridgeStore ??= createEntityStore<EvBridgeStatus>({ name: "flex.bridges", keyOf: (b) => b.stationId, bufferSize: 256 }));

/** The operator's choice, kept so a console restart does not drop the station from the market. */
const saveChoice = (opts: EvBridgeOptions) => {
  const row = { nodeId: opts.nodeId, gridNodeId: opts.gridNodeId, maxPowerW: opts.maxPowerW, unitPrice: opts.unitPrice ?? null, actorId: opts.actor.id, actorEmail: opts.actor.email, actorRole: opts.actor.role ?? null };
  return opts.db.flexEvBridge.upsert({ where: { stationId: opts.stationId }, create: { stationId: opts.stationId, ...row }, update: row });
};

export const startStationBridge = async (opts: EvBridgeOptions, { save = true } = {}) => {
  if (evBridges().has(opts.stationId)) throw new AppError("CONFLICT", `Station ${opts.stationId} is already bridged into the flex market.`, "stationId");
  const bridge = await startEvBridge(opts);
  if (evBridges().has(opts.stationId)) {
    // Started twice at once: the first one in keeps the station.
    await bridge.close();
    throw new AppError("CONFLICT", `Station ${opts.stationId} is already bridged into the flex market.`, "stationId");
  }
  evBridges().set(opts.stationId, bridge);
  evBridgeStore().upsert(bridge.status());
  if (save) await saveChoice(opts);
  return bridge.status();
};

/**
 * On console start: every bridge an operator chose and did not stop, started again (same
 * node, grid node, limit, price and operator). One that cannot start yet (a connector not
 * up, the node away) is retried every `retryMs` until it starts or is stopped.
 */
export const restoreStationBridges = async (db: Db, { retryMs = 30_000 } = {}) => {
  const log = logger().child({ component: "flex-ev-bridge" });
  const tryAll = async () => {
    const rows = await db.flexEvBridge.findMany();
    let waiting = 0;
    for (const r of rows) {
      if (evBridges().has(r.stationId)) continue;
      // The operator who chose it must still be allowed to: else the choice is forgotten, audited.
      const user = await db.user.findUnique({ where: { id: r.actorId } });
      if (!user || user.disabled || !can(user.role, "flex.bridge")) {
        await db.flexEvBridge.deleteMany({ where: { stationId: r.stationId } });
        const why = `${r.actorEmail} may no longer run EV-charger bridges (flex.bridge): the saved bridge was not restored`;
        log.warn({ stationId: r.stationId, actor: r.actorEmail }, "flex EV bridge dropped: its operator lost flex.bridge");
        await writeAudit(db, { actor: { id: r.actorId, email: r.actorEmail, role: user?.role ?? r.actorRole }, action: "flex.bridge.restore", target: r.stationId, outcome: "denied", error: why, traceId: randomUUID() });
        continue;
      }
      const opts: EvBridgeOptions = { db, actor: { id: user.id, email: user.email, role: user.role }, stationId: r.stationId, nodeId: r.nodeId, gridNodeId: r.gridNodeId, maxPowerW: r.maxPowerW, unitPrice: r.unitPrice ?? undefined };
      await startStationBridge(opts, { save: false }).then(
        () => log.info({ stationId: r.stationId, nodeId: r.nodeId }, "flex EV bridge restored"),
        (error: unknown) => {
          waiting++;
          log.warn({ stationId: r.stationId, nodeId: r.nodeId, err: (error as Error).message }, "flex EV bridge not restored yet; retrying");
        },
      );
    }
    return waiting;
  };
  const waiting = await tryAll();
  if (waiting > 0) {
    const timer = setInterval(() => {
      tryAll().then(
        (left) => left === 0 && clearInterval(timer),
        () => {},
      );
    }, retryMs);
    timer.unref();
  }
  return evBridges().size;
};

/** Stops a bridge and forgets the operator's choice (`db`), so a restart does not bring it back. */
export const stopStationBridge = async (stationId: string, db?: Db) => {
  const bridge = evBridges().get(stationId);
  // A saved choice that could not be restored (still retrying) is stopped by forgetting it.
  const forgotten = (await db?.flexEvBridge.deleteMany({ where: { stationId } }))?.count ?? 0;
  if (!bridge) throw new AppError("NOT_FOUND", forgotten ? `Station ${stationId.slice(0, 60)} was waiting to be bridged again; it will not be.` : `Station ${stationId.slice(0, 60)} is not bridged.`);
  evBridges().delete(stationId);
  evBridgeStore().remove(stationId);
  const last = bridge.status();
  await bridge.close();
  return { ...last, connected: false };
};
