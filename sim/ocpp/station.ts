import { randomUUID } from "node:crypto";
import { RPCClient } from "ocpp-rpc";
import type pino from "pino";
import { logger } from "../../lib/log";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import {
  createConfig16,
  createVariables201,
  dataType201,
  DEFAULT_SAMPLED,
  invalidValue,
  MEASURANDS,
  readValue,
  sameComponent,
  sameVariable,
  type Component,
  type DeviceVar,
  type Measurand,
  type Variable,
  type VarDef,
} from "./config";
import { advanceCharging, CHARGERS, electrical, limitToWatts, randomEv, type Charger, type ChargerKind, type Ev, type Flow } from "./physics";
import { createRng, type Rng } from "./rng";
import { createScheduler, type Scheduler } from "./scheduler";
import { createTxQueue } from "./tx-queue";

/**
 * A simulated OCPP 1.6J or 2.0.1 charge station over a real websocket (ocpp-rpc, strict
 * mode, so every message it sends or accepts is schema-checked). One station has
 * `connectors` connectors; in 2.0.1 each is its own EVSE with connector 1.
 *
 * Time: protocol timers (heartbeat, reconnect, reboot) run in wall-clock time; charging
 * physics and demo behaviour run in simulated time = wall time × `speed`, and the
 * meter-value interval is divided by `speed`, so a fast demo shows whole sessions quickly.
 */

export type Behaviour = "demo" | "idle";

export type StationSimOptions = {
  id: string;
  /** The gateway's base websocket URL (ws://host:port); `/ws/<id>` is appended. */
  url: string;
  password?: string;
  protocol: OcppVersion;
  connectors?: number;
  seed?: number;
  /** Simulated seconds per wall-clock second for physics and behaviour (default 1). */
  speed?: number;
  /** demo: cars arrive, charge and leave, faults happen now and then. idle: only what the API or the CSMS asks. */
  behaviour?: Behaviour;
  kind?: ChargerKind;
  /** Wall-clock meter interval; overrides MeterValueSampleInterval / TxUpdatedInterval ÷ speed. */
  meterIntervalMs?: number;
  /** Reboot pause after a Reset, picked uniformly from [min, max] ms. */
  rebootDelayMs?: [number, number];
  /** Wait before retrying a BootNotification that failed (no answer, CALLERROR). */
  bootRetryMs?: number;
  callTimeoutMs?: number;
  /** Shared by a fleet; a lone station makes its own. */
  scheduler?: Scheduler;
  log?: pino.Logger;
};

type StopReason = "local" | "remote" | "evDisconnected" | "softReset" | "hardReset" | "immediateReset" | "unlock" | "deauthorized" | "fault";

type Transaction = {
  /** 2.0.1 transactionId (the station's own); also the key the API reports for 2.0.1. */
  localId: string;
  /** 1.6 transactionId assigned by the CSMS in StartTransaction.conf. */
  remoteId?: number;
  idTag: string;
  startedAt: number;
  meterStartWh: number;
  seqNo: number;
  /** True once the CSMS knows about it; meter values flow from then on. */
  active: boolean;
  stopping: boolean;
  nextMeterAt: number;
  remoteStartId?: number;
};

type Connector = {
  id: number;
  operative: boolean;
  /** A ChangeAvailability that waits for the running transaction to end. */
  pendingOperative?: boolean;
  plugged: boolean;
  ev?: Ev;
  faulted?: { errorCode: string; until?: number };
  tx?: Transaction;
  flow: Flow;
  lastAdvance: number;
  /** The last status sent, in the station's protocol's vocabulary. */
  lastStatus?: string;
  finishing: boolean;
  defaultLimitW?: number;
  txLimitW?: number;
  /** A TxProfile that came with a remote start; applies when the transaction starts. */
  pendingTxLimitW?: number;
  pendingReset: boolean;
  /** Set while a plug-in/start/stop flow runs, so demo behaviour leaves it alone. */
  busy: boolean;
  leaveAt?: number;
  unplugAt?: number;
};

export type ConnectorState = {
  id: number;
  status: string | undefined;
  plugged: boolean;
  operative: boolean;
  faulted: boolean;
  powerW: number;
  energyWh: number;
  socPct?: number;
  transaction?: { id: string; idTag: string; startedAt: number; meterStartWh: number; energyWh: number; active: boolean };
};

export type StationState = {
  id: string;
  protocol: OcppVersion;
  kind: ChargerKind;
  connected: boolean;
  bootStatus: "None" | "Pending" | "Rejected" | "Accepted";
  heartbeatIntervalS: number;
  operative: boolean;
  connectors: ConnectorState[];
  stats: { boots: number; calls: number; callErrors: number; validationFailures: number; reconnects: number; queuedTxMessages: number; txMessagesSentLater: number };
};

export type StationSim = {
  id: string;
  protocol: OcppVersion;
  state: () => StationState;
  /** Resolves at the next accepted BootNotification (at once if already booted). */
  waitForBoot: () => Promise<void>;
  /** Plugs a car in; by default authorizes and starts a transaction. Resolves when that flow ends. */
  plugIn: (connectorId: number, opts?: { idTag?: string; ev?: Partial<Ev>; autoStart?: boolean }) => Promise<void>;
  /** Stops the transaction (EVDisconnected) if any and unplugs. */
  unplug: (connectorId: number) => Promise<void>;
  /** Stops a transaction as if the driver presented their card again. */
  stopTransaction: (connectorId: number) => Promise<void>;
  /** Faulted (ending any transaction); back to normal after `durationMs` or clearFault. */
  fault: (connectorId: number, opts?: { errorCode?: string; durationMs?: number }) => Promise<void>;
  clearFault: (connectorId: number) => Promise<void>;
  close: () => Promise<void>;
};

const VENDOR = "Switchyard";
const FIRMWARE = "1.4.2";
const ERROR_CODES = ["GroundFailure", "OverCurrentFailure", "HighTemperature", "PowerMeterFailure", "EVCommunicationError"];

// Demo behaviour, in simulated seconds.
const MEAN_IDLE_S = 15 * 60;
const MEAN_EARLY_LEAVE_S = 90 * 60;
const MEAN_FAULT_S = 8 * 3600;

const STOP_REASON_16: Record<StopReason, string> = {
  local: "Local",
  remote: "Remote",
  evDisconnected: "EVDisconnected",
  softReset: "SoftReset",
  hardReset: "HardReset",
  immediateReset: "HardReset",
  unlock: "UnlockCommand",
  deauthorized: "DeAuthorized",
  fault: "Other",
};
const STOP_REASON_201: Record<StopReason, { stoppedReason: string; triggerReason: string }> = {
  local: { stoppedReason: "Local", triggerReason: "StopAuthorized" },
  remote: { stoppedReason: "Remote", triggerReason: "RemoteStop" },
  evDisconnected: { stoppedReason: "EVDisconnected", triggerReason: "EVCommunicationLost" },
  softReset: { stoppedReason: "ImmediateReset", triggerReason: "ResetCommand" },
  hardReset: { stoppedReason: "ImmediateReset", triggerReason: "ResetCommand" },
  immediateReset: { stoppedReason: "ImmediateReset", triggerReason: "ResetCommand" },
  unlock: { stoppedReason: "Other", triggerReason: "UnlockCommand" },
  deauthorized: { stoppedReason: "DeAuthorized", triggerReason: "Deauthorized" },
  fault: { stoppedReason: "Other", triggerReason: "AbnormalCondition" },
};

/** ws://host:port → ws://host:port/ws (ocpp-rpc appends /<identity>). */
export const stationEndpoint = (url: string) => {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/ws") ? base : `${base}/ws`;
};

const iso = (ms = Date.now()) => new Date(ms).toISOString();
type Params = Record<string, unknown>;
type Json = Record<string, unknown>;

/** A token from a small pool, so the CSMS sees the same drivers come back. */
const randomIdTag = (rng: Rng) => `SY${rng.int(0, 63).toString(16).padStart(2, "0").toUpperCase()}${rng.int(0x1000, 0xffff).toString(16).toUpperCase()}`.slice(0, 20);

export const startStationSim = async (opts: StationSimOptions): Promise<StationSim> => {
  const { id, protocol } = opts;
  const v16 = protocol === "ocpp1.6";
  const rng = createRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  const speed = opts.speed ?? 1;
  const behaviour = opts.behaviour ?? "idle";
  const kind: ChargerKind = opts.kind ?? rng.pick(["AC7", "AC11", "AC22", "AC22", "DC50"] as const);
  const charger: Charger = CHARGERS[kind];
  const model = `SY-${kind}`;
  const n = opts.connectors ?? 2;
  const rebootDelay = opts.rebootDelayMs ?? [1000, 3000];
  const bootRetryMs = opts.bootRetryMs ?? 5000;
  const log = (opts.log ?? logger()).child({ station: id, protocol });
  const ownScheduler = opts.scheduler ? undefined : createScheduler({ tickMs: 50 });
  const scheduler = opts.scheduler ?? ownScheduler!;

  const now = () => Date.now();
  const connectors: Connector[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    operative: true,
    plugged: false,
    flow: { powerW: 0, energyWh: Math.round(rng.between(1_000_000, 20_000_000)) },
    lastAdvance: now(),
    finishing: false,
    pendingReset: false,
    busy: false,
  }));
  const station = {
    operative: true,
    pendingOperative: undefined as boolean | undefined,
    maxLimitW: undefined as number | undefined,
    defaultLimitW: undefined as number | undefined,
    pendingReset: false,
    lastStatus0: undefined as string | undefined,
  };
  let bootStatus: StationState["bootStatus"] = "None";
  let bootReason = "PowerUp";
  let needBoot = true;
  let connected = false;
  let closed = false;
  let rebooting = false;
  /** Between a Reset and the socket closing. */
  let shuttingDown = false;
  let connGen = 0;
  let heartbeatIntervalS = 300;
  let nextHeartbeatAt = Number.POSITIVE_INFINITY;
  let bootWaiters: (() => void)[] = [];
  const stats = { boots: 0, calls: 0, callErrors: 0, validationFailures: 0, reconnects: 0 };

  // ---------- settings ----------

  const config16 = v16 ? createConfig16({ connectors: n, heartbeatIntervalS, meterIntervalS: 10 }) : undefined;
  const vars201 = v16
    ? undefined
    : createVariables201({
        id,
        connectors: n,
        heartbeatIntervalS,
        meterIntervalS: 10,
        model,
        vendor: VENDOR,
        phases: charger.phases,
        connectorType: charger.connectorType,
        maxPowerW: charger.maxPowerW,
        availability: (evseId) => (evseId ? status201(connectors[evseId - 1]) : station.operative ? "Available" : "Unavailable"),
        powerW: (evseId) => connectors[evseId - 1]?.flow.powerW ?? 0,
      });
  const var201 = (component: string, variable: string) => vars201?.find((v) => v.component.name === component && !v.component.evse && v.variable.name === variable);
  const setting = (key16: string, component: string, variable: string): VarDef | undefined => (v16 ? config16!.get(key16) : var201(component, variable));
  const settingValue = (key16: string, component: string, variable: string, fallback: string) => {
    const def = setting(key16, component, variable);
    return def ? readValue(def) : fallback;
  };
  const setSetting = (key16: string, component: string, variable: string, value: string) => {
    const def = setting(key16, component, variable);
    if (def) def.value = value;
  };
  // Speed shortens the interval, but not below a second of wall time: a fast demo should
  // show sessions quickly, not flood the CSMS with meter values.
  const meterIntervalMs = () =>
    opts.meterIntervalMs ??
    Math.max(1000, (Number(settingValue("MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", "10")) * 1000) / speed);
  const measurands = (which: "updated" | "started" | "ended"): Measurand[] => {
    const raw =
      which === "updated"
        ? settingValue("MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", DEFAULT_SAMPLED)
        : which === "started"
          ? settingValue("MeterValuesSampledData", "SampledDataCtrlr", "TxStartedMeasurands", DEFAULT_SAMPLED)
          : settingValue("StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register");
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((m): m is Measurand => (MEASURANDS as readonly string[]).includes(m));
  };
  const onSettingChanged = (name: string, value: string) => {
    if (name === "HeartbeatInterval") {
      heartbeatIntervalS = Number(value);
      nextHeartbeatAt = now() + heartbeatIntervalS * 1000;
    }
  };

  // ---------- status ----------

  const operative = (c: Connector) => station.operative && c.operative;
  /** No new transactions while an availability change or reset waits for running ones to end. */
  const canStart = (c: Connector) =>
    operative(c) && station.pendingOperative !== false && c.pendingOperative !== false && !station.pendingReset && !c.pendingReset;
  const limitFor = (c: Connector) =>
    Math.min(charger.maxPowerW, station.maxLimitW ?? Infinity, c.defaultLimitW ?? station.defaultLimitW ?? Infinity, c.txLimitW ?? Infinity);
  const chargingState = (c: Connector) => {
    if (!c.tx) return c.plugged ? "EVConnected" : "Idle";
    if (c.ev && c.ev.socPct >= 100) return "SuspendedEV";
    if (limitFor(c) <= 0) return "SuspendedEVSE";
    return "Charging";
  };
  const status16 = (c: Connector) => {
    if (c.faulted) return "Faulted";
    if (c.tx?.active) return chargingState(c);
    if (!operative(c)) return "Unavailable";
    if (c.plugged || c.tx) return c.finishing ? "Finishing" : "Preparing";
    return "Available";
  };
  const status201 = (c: Connector) => {
    if (c.faulted) return "Faulted";
    if (c.tx) return "Occupied";
    if (!operative(c)) return "Unavailable";
    return c.plugged ? "Occupied" : "Available";
  };
  const statusOf = (c: Connector) => (v16 ? status16(c) : status201(c));
  const station0Status = () => (station.operative ? "Available" : "Unavailable");

  // ---------- wire ----------

  const client = new RPCClient({
    endpoint: stationEndpoint(opts.url),
    identity: id,
    password: opts.password ?? null,
    protocols: [protocol],
    strictMode: true,
    callConcurrency: 1,
    callTimeoutMs: opts.callTimeoutMs ?? 30_000,
    reconnect: true,
    maxReconnects: Infinity,
    pingIntervalMs: 30_000,
    backoff: { initialDelay: 1000, maxDelay: 30_000, factor: 2, randomisationFactor: 0.5 },
  } as unknown as ConstructorParameters<typeof RPCClient>[0]);

  const sleepers = new Set<() => void>();
  /** A sleep that ends early when the station is closed. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const canSend = () => connected && bootStatus === "Accepted";
  /** Sends a CALL; resolves undefined instead of throwing, because a station carries on regardless. */
  const call = async <T = Json>(action: string, params: Params, { force = false } = {}): Promise<T | undefined> => {
    if (closed || !connected || (!force && bootStatus !== "Accepted")) return undefined;
    stats.calls += 1;
    try {
      return (await client.call(action, params)) as T;
    } catch (error) {
      stats.callErrors += 1;
      log.debug({ action, err: (error as Error).message, code: (error as { rpcErrorCode?: string }).rpcErrorCode }, "call failed");
      return undefined;
    }
  };
  /** Transaction messages wait here while they cannot be delivered (tx-queue.ts). */
  const txQueue = createTxQueue({
    canSend: () => !closed && canSend(),
    send: async (action, params) => {
      stats.calls += 1;
      try {
        return await client.call(action, params);
      } catch (error) {
        stats.callErrors += 1;
        log.debug({ action, err: (error as Error).message, code: (error as { rpcErrorCode?: string }).rpcErrorCode }, "transaction message failed");
        throw error;
      }
    },
    onDrop: (m) => log.warn({ action: m.action }, "transaction message queue full; oldest dropped"),
  });
  const txCall = <T = Json>(action: string, params: Params) => (closed ? Promise.resolve(undefined) : txQueue.call<T>(action, params));
  /** Runs a side effect after the current CALLRESULT has gone out. */
  const later = (fn: () => Promise<unknown> | void) =>
    setImmediate(() => {
      if (closed) return;
      Promise.resolve()
        .then(fn)
        .catch((error: unknown) => log.warn({ err: (error as Error).message }, "station flow failed"));
    });

  const sendStatus = async (c: Connector | 0, status: string) => {
    if (c === 0) {
      station.lastStatus0 = status;
      return call("StatusNotification", { connectorId: 0, errorCode: "NoError", status, timestamp: iso() });
    }
    c.lastStatus = status;
    if (v16) return call("StatusNotification", { connectorId: c.id, errorCode: c.faulted?.errorCode ?? "NoError", status, timestamp: iso() });
    return call("StatusNotification", { timestamp: iso(), connectorStatus: status, evseId: c.id, connectorId: 1 });
  };
  /** Sends a StatusNotification when the derived status differs from the last one sent. */
  const syncStatus = async (c: Connector, { force = false } = {}) => {
    const status = statusOf(c);
    // A rebooting station goes straight to Unavailable, without intermediate Finishing etc.
    if (!canSend() || shuttingDown) return;
    if (!force && c.lastStatus === status) return;
    await sendStatus(c, status);
  };
  const sync0 = async ({ force = false } = {}) => {
    if (!v16 || !canSend() || shuttingDown) return;
    const status = station0Status();
    if (!force && station.lastStatus0 === status) return;
    await sendStatus(0, status);
  };
  const syncAll = async ({ force = false } = {}) => {
    await sync0({ force });
    for (const c of connectors) await syncStatus(c, { force });
  };

  // ---------- meter values ----------

  const advance = (c: Connector, t = now()) => {
    if (c.tx?.active && !c.tx.stopping && c.ev) {
      advanceCharging({ flow: c.flow, ev: c.ev, charger, limitW: limitFor(c), dtS: ((t - c.lastAdvance) / 1000) * speed });
    } else {
      c.flow.powerW = 0;
    }
    c.lastAdvance = t;
  };
  const readings = (c: Connector, which: Measurand[]) => {
    const { voltage, currentA } = electrical(charger, c.flow.powerW, c.ev?.socPct ?? 0);
    const values: { measurand: Measurand; value: number; unit: string; location: string; decimals: number }[] = [];
    for (const m of which) {
      if (m === "Energy.Active.Import.Register") values.push({ measurand: m, value: c.flow.energyWh, unit: "Wh", location: "Outlet", decimals: 0 });
      if (m === "Power.Active.Import") values.push({ measurand: m, value: c.flow.powerW, unit: "W", location: "Outlet", decimals: 0 });
      if (m === "Current.Import") values.push({ measurand: m, value: currentA, unit: "A", location: "Outlet", decimals: 1 });
      if (m === "Voltage") values.push({ measurand: m, value: voltage, unit: "V", location: "Outlet", decimals: 1 });
      if (m === "SoC" && c.ev) values.push({ measurand: m, value: c.ev.socPct, unit: "Percent", location: "EV", decimals: 1 });
    }
    return values;
  };
  const meterValue = (c: Connector, context: string, which: Measurand[]) => {
    const round = (v: number, d: number) => Number(v.toFixed(d));
    const values = readings(c, which);
    return {
      timestamp: iso(),
      sampledValue: v16
        ? values.map((r) => ({ value: String(round(r.value, r.decimals)), context, measurand: r.measurand, location: r.location, unit: r.unit }))
        : values.map((r) => ({ value: round(r.value, r.decimals), context, measurand: r.measurand, location: r.location, unitOfMeasure: { unit: r.unit } })),
    };
  };
  const sendMeter = async (c: Connector, context: "Sample.Periodic" | "Trigger") => {
    advance(c);
    const tx = c.tx?.active && !c.tx.stopping ? c.tx : undefined;
    if (v16) {
      const params = { connectorId: c.id, ...(tx?.remoteId !== undefined ? { transactionId: tx.remoteId } : {}), meterValue: [meterValue(c, context, measurands("updated"))] };
      return tx?.remoteId !== undefined ? txCall("MeterValues", params) : call("MeterValues", params);
    }
    if (tx) {
      return txCall("TransactionEvent", {
        eventType: "Updated",
        timestamp: iso(),
        triggerReason: context === "Trigger" ? "Trigger" : "MeterValuePeriodic",
        seqNo: tx.seqNo++,
        transactionInfo: { transactionId: tx.localId, chargingState: chargingState(c) },
        meterValue: [meterValue(c, context, measurands("updated"))],
      });
    }
    return call("MeterValues", { evseId: c.id, meterValue: [meterValue(c, context, measurands("updated"))] });
  };

  // ---------- transactions ----------

  const applyScheduled = async (c: Connector) => {
    if (c.pendingOperative !== undefined) {
      c.operative = c.pendingOperative;
      c.pendingOperative = undefined;
    }
    const anyTx = connectors.some((x) => x.tx);
    if (!anyTx && station.pendingOperative !== undefined) {
      station.operative = station.pendingOperative;
      station.pendingOperative = undefined;
      await sync0();
    }
    if (c.pendingReset) {
      c.pendingReset = false;
      later(() => evseReset(c));
    }
    if (!anyTx && station.pendingReset) {
      station.pendingReset = false;
      later(() => reboot("immediateReset"));
    }
  };

  const startTransaction = async (
    c: Connector,
    idTag: string,
    { remote = false, remoteStartId, tokenType = "ISO14443" }: { remote?: boolean; remoteStartId?: number; tokenType?: string } = {},
  ) => {
    if (c.tx || c.faulted || !canStart(c) || bootStatus !== "Accepted") return false;
    const tx: Transaction = {
      localId: randomUUID(),
      idTag,
      startedAt: now(),
      meterStartWh: Math.round(c.flow.energyWh),
      seqNo: 0,
      active: false,
      stopping: false,
      nextMeterAt: Number.POSITIVE_INFINITY,
      remoteStartId,
    };
    c.tx = tx;
    c.finishing = false;
    const idToken = { idToken: idTag, type: tokenType };
    const authorizeFirst = remote
      ? settingValue("AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", "false") === "true"
      : true;
    if (authorizeFirst) {
      const res = await call<{ idTagInfo?: { status: string }; idTokenInfo?: { status: string } }>("Authorize", v16 ? { idTag } : { idToken });
      const status = v16 ? res?.idTagInfo?.status : res?.idTokenInfo?.status;
      if (c.tx !== tx) return false;
      if (status !== "Accepted") {
        log.debug({ connector: c.id, idTag, status }, "authorization refused");
        c.tx = undefined;
        await syncStatus(c);
        return false;
      }
    }
    if (c.pendingTxLimitW !== undefined) {
      c.txLimitW = c.pendingTxLimitW;
      c.pendingTxLimitW = undefined;
    }
    c.lastAdvance = now();
    if (v16) {
      const res = await call<{ transactionId: number; idTagInfo: { status: string } }>("StartTransaction", {
        connectorId: c.id,
        idTag,
        meterStart: tx.meterStartWh,
        timestamp: iso(tx.startedAt),
      });
      if (c.tx !== tx) return false;
      if (!res) {
        c.tx = undefined;
        await syncStatus(c);
        return false;
      }
      tx.remoteId = res.transactionId;
      tx.active = true;
      c.lastAdvance = now();
      if (res.idTagInfo.status !== "Accepted") {
        await stopTransaction(c, "deauthorized");
        return false;
      }
    } else {
      tx.active = true;
      const res = await txCall<{ idTokenInfo?: { status: string } }>("TransactionEvent", {
        eventType: "Started",
        timestamp: iso(tx.startedAt),
        triggerReason: remote ? "RemoteStart" : "Authorized",
        seqNo: tx.seqNo++,
        transactionInfo: { transactionId: tx.localId, chargingState: "Charging", ...(remoteStartId !== undefined ? { remoteStartId } : {}) },
        evse: { id: c.id, connectorId: 1 },
        idToken,
        meterValue: [meterValue(c, "Transaction.Begin", measurands("started"))],
      });
      if (c.tx !== tx) return false;
      if (res?.idTokenInfo && res.idTokenInfo.status !== "Accepted") {
        await stopTransaction(c, "deauthorized");
        return false;
      }
    }
    tx.nextMeterAt = now() + meterIntervalMs();
    log.debug({ connector: c.id, tx: tx.remoteId ?? tx.localId }, "transaction started");
    await syncStatus(c);
    return true;
  };

  const stopTransaction = async (c: Connector, reason: StopReason) => {
    const tx = c.tx;
    if (!tx || tx.stopping) return;
    advance(c);
    tx.stopping = true;
    c.flow.powerW = 0;
    if (tx.active) {
      if (v16) {
        if (tx.remoteId !== undefined) {
          await txCall("StopTransaction", {
            transactionId: tx.remoteId,
            idTag: tx.idTag,
            meterStop: Math.round(c.flow.energyWh),
            timestamp: iso(),
            reason: STOP_REASON_16[reason],
          });
        }
      } else {
        const r = STOP_REASON_201[reason];
        await txCall("TransactionEvent", {
          eventType: "Ended",
          timestamp: iso(),
          triggerReason: r.triggerReason,
          seqNo: tx.seqNo++,
          transactionInfo: {
            transactionId: tx.localId,
            chargingState: reason === "evDisconnected" || !c.plugged ? "Idle" : "EVConnected",
            stoppedReason: r.stoppedReason,
          },
          evse: { id: c.id, connectorId: 1 },
          meterValue: [meterValue(c, "Transaction.End", measurands("ended"))],
        });
      }
    }
    if (c.tx === tx) c.tx = undefined;
    c.txLimitW = undefined;
    c.leaveAt = undefined;
    c.finishing = c.plugged;
    log.debug({ connector: c.id, reason, energyWh: Math.round(c.flow.energyWh - tx.meterStartWh) }, "transaction stopped");
    await applyScheduled(c);
    await syncStatus(c);
  };

  const plugIn = async (c: Connector, { idTag, ev, autoStart = true }: { idTag?: string; ev?: Partial<Ev>; autoStart?: boolean } = {}) => {
    if (c.plugged) return;
    c.plugged = true;
    c.ev = randomEv(rng, ev);
    c.finishing = false;
    c.unplugAt = undefined;
    c.leaveAt = undefined;
    await syncStatus(c);
    if (autoStart && !c.faulted && canStart(c)) {
      const started = await startTransaction(c, idTag ?? randomIdTag(rng));
      // A refused driver leaves after a while.
      if (!started && behaviour === "demo" && !c.tx) c.unplugAt = now() + (rng.between(20, 90) * 1000) / speed;
    }
  };

  const unplug = async (c: Connector) => {
    if (!c.plugged) return;
    if (c.tx) await stopTransaction(c, "evDisconnected");
    c.plugged = false;
    c.ev = undefined;
    c.finishing = false;
    c.unplugAt = undefined;
    await syncStatus(c);
  };

  const fault = async (c: Connector, { errorCode, durationMs }: { errorCode?: string; durationMs?: number } = {}) => {
    if (c.tx) await stopTransaction(c, "fault");
    c.faulted = { errorCode: errorCode ?? rng.pick(ERROR_CODES), until: durationMs !== undefined ? now() + durationMs : undefined };
    await syncStatus(c);
  };
  const clearFault = async (c: Connector) => {
    if (!c.faulted) return;
    c.faulted = undefined;
    await syncStatus(c);
  };

  /** Runs a flow on a connector that demo behaviour must not interleave with. */
  const exclusive = async <T>(c: Connector, fn: () => Promise<T>) => {
    c.busy = true;
    try {
      return await fn();
    } finally {
      c.busy = false;
    }
  };

  // ---------- reboot ----------

  const evseReset = async (c: Connector) => {
    if (c.tx) await stopTransaction(c, "immediateReset");
    if (canSend()) await sendStatus(c, "Unavailable");
    await sleep(rng.int(rebootDelay[0], rebootDelay[1]));
    await syncStatus(c);
  };

  const reboot = async (kind: "softReset" | "hardReset" | "immediateReset") => {
    if (rebooting || closed) return;
    rebooting = true;
    try {
      log.info({ kind }, "rebooting");
      shuttingDown = true;
      for (const c of connectors) if (c.tx) await stopTransaction(c, kind);
      // Tell the CSMS before going away, so the console shows Unavailable during the reboot.
      if (canSend()) {
        if (v16) await sendStatus(0, "Unavailable");
        for (const c of connectors) await sendStatus(c, "Unavailable");
      }
      bootStatus = "None";
      needBoot = true;
      bootReason = "RemoteReset";
      nextHeartbeatAt = Number.POSITIVE_INFINITY;
      await client.close({ code: 1000, reason: "rebooting" }).catch(() => {});
      connected = false;
      shuttingDown = false;
      await sleep(rng.int(rebootDelay[0], rebootDelay[1]));
      if (closed) return;
      for (const c of connectors) c.lastStatus = undefined;
      station.lastStatus0 = undefined;
      await connectLoop();
    } finally {
      rebooting = false;
      shuttingDown = false;
    }
  };

  // ---------- connection and boot ----------

  const bootPayload = () =>
    v16
      ? { chargePointVendor: VENDOR, chargePointModel: model, chargePointSerialNumber: `SN-${id}`.slice(0, 25), firmwareVersion: FIRMWARE, meterType: "SY-MID" }
      : { reason: bootReason, chargingStation: { model, vendorName: VENDOR, serialNumber: `SN-${id}`.slice(0, 25), firmwareVersion: FIRMWARE } };

  type BootConf = { status: "Accepted" | "Pending" | "Rejected"; interval: number; currentTime: string };
  const applyBoot = async (res: BootConf) => {
    if (res.status !== "Accepted") {
      bootStatus = res.status;
      return false;
    }
    bootStatus = "Accepted";
    needBoot = false;
    bootReason = "PowerUp";
    stats.boots += 1;
    if (res.interval > 0) {
      heartbeatIntervalS = res.interval;
      setSetting("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", String(res.interval));
    }
    nextHeartbeatAt = now() + heartbeatIntervalS * 1000;
    log.info({ interval: heartbeatIntervalS }, "booted");
    const waiters = bootWaiters;
    bootWaiters = [];
    for (const w of waiters) w();
    await txQueue.flush();
    await syncAll({ force: true });
    return true;
  };

  const bootLoop = async (gen: number) => {
    while (!closed && connected && gen === connGen) {
      const res = await call<BootConf>("BootNotification", bootPayload(), { force: true });
      if (gen !== connGen || closed) return;
      if (!res) {
        await sleep(bootRetryMs);
        continue;
      }
      if (await applyBoot(res)) return;
      // Pending/Rejected: try again after the interval the CSMS asked for.
      await sleep((res.interval > 0 ? res.interval : 10) * 1000);
    }
  };

  client.on("open", () => {
    connected = true;
    connGen += 1;
    for (const c of connectors) c.lastStatus = undefined;
    station.lastStatus0 = undefined;
    if (needBoot) void bootLoop(connGen);
    // After a mere reconnect OCPP needs no new boot, but the CSMS may have missed changes
    // (and the transaction messages queued while offline go first).
    else void txQueue.flush().then(() => syncAll({ force: true }));
  });
  client.on("disconnect", () => {
    if (connected && !rebooting && !closed) stats.reconnects += 1;
    connected = false;
  });
  client.on("strictValidationFailure", ({ method, outbound, isCall, error }: { method: string; outbound: boolean; isCall: boolean; error: Error }) => {
    stats.validationFailures += 1;
    log.warn({ action: method, outbound, isCall, err: error.message }, "schema violation");
  });
  client.on("socketError", (error: Error) => log.debug({ err: error.message }, "socket error"));

  /** The first connection (and the one after a reboot); ocpp-rpc reconnects by itself afterwards. */
  const connectLoop = async () => {
    let delay = 1000;
    while (!closed) {
      try {
        await client.connect();
        return;
      } catch (error) {
        if (closed) return;
        const status = (error as { code?: number }).code;
        log.warn({ err: (error as Error).message, status }, "connect failed; retrying");
        await sleep(delay * (0.75 + rng.next() * 0.5));
        delay = Math.min(delay * 2, 30_000);
      }
    }
  };

  // ---------- CSMS → station ----------

  const connectorById = (connectorId: unknown) => (typeof connectorId === "number" ? connectors[connectorId - 1] : undefined);

  /**
   * The version-neutral part of SetChargingProfile: where a limit lands (the whole station,
   * a connector's default, or its running transaction) and when it must be refused.
   */
  const applyChargingLimit = ({
    targetId,
    purpose,
    limit,
    matchesTx,
  }: {
    targetId: number;
    purpose: string;
    limit: number | undefined;
    matchesTx: (tx: NonNullable<Connector["tx"]>) => boolean;
  }): { status: "Accepted" | "Rejected" } => {
    const c = connectorById(targetId);
    if (targetId !== 0 && !c) return { status: "Rejected" };
    connectors.forEach((x) => advance(x));
    switch (purpose) {
      case "station":
        if (targetId !== 0) return { status: "Rejected" };
        station.maxLimitW = limit;
        break;
      case "TxDefaultProfile":
        if (c) c.defaultLimitW = limit;
        else station.defaultLimitW = limit;
        break;
      case "TxProfile":
        if (!c?.tx?.active || !matchesTx(c.tx)) return { status: "Rejected" };
        c.txLimitW = limit;
        break;
      default:
        return { status: "Rejected" };
    }
    return { status: "Accepted" };
  };
  const freeConnector = (c: Connector | undefined) => !!c && !c.tx && !c.faulted && canStart(c) && !c.busy;
  const pickFree = (connectorId?: number) =>
    connectorId !== undefined && connectorId > 0
      ? freeConnector(connectorById(connectorId))
        ? connectorById(connectorId)
        : undefined
      : (connectors.find((c) => freeConnector(c) && c.plugged) ?? connectors.find((c) => freeConnector(c)));

  type Period = { startPeriod: number; limit: number; numberPhases?: number };
  const scheduleLimitW = (unit: "A" | "W", periods: Period[]) => {
    const first = [...periods].sort((a, b) => a.startPeriod - b.startPeriod)[0];
    return first ? limitToWatts(charger, unit, first.limit, first.numberPhases) : undefined;
  };

  const remoteStart = (c: Connector, idTag: string, extra: { remoteStartId?: number; tokenType?: string }) => {
    c.busy = true;
    later(() =>
      exclusive(c, async () => {
        if (!c.plugged) await plugIn(c, { autoStart: false });
        await startTransaction(c, idTag, { remote: true, ...extra });
      }),
    );
  };

  const applyAvailability = (target: boolean, c?: Connector): "Accepted" | "Scheduled" => {
    if (!c) {
      if (!target && connectors.some((x) => x.tx)) {
        station.pendingOperative = false;
        return "Scheduled";
      }
      station.operative = target;
      station.pendingOperative = undefined;
      later(() => syncAll());
      return "Accepted";
    }
    if (!target && c.tx) {
      c.pendingOperative = false;
      return "Scheduled";
    }
    c.operative = target;
    c.pendingOperative = undefined;
    later(() => syncStatus(c));
    return "Accepted";
  };

  const triggerStatus = (c?: Connector) =>
    later(async () => {
      if (c) return sendStatus(c, statusOf(c));
      if (v16) await sendStatus(0, station0Status());
      for (const x of connectors) await sendStatus(x, statusOf(x));
    });
  const triggerMeter = (c?: Connector) =>
    later(async () => {
      for (const x of c ? [c] : connectors) await sendMeter(x, "Trigger");
    });
  const triggerBoot = () =>
    later(async () => {
      const res = await call<BootConf>("BootNotification", { ...bootPayload(), ...(v16 ? {} : { reason: "Triggered" }) }, { force: true });
      if (res?.status === "Accepted" && res.interval > 0) onSettingChanged("HeartbeatInterval", String(res.interval));
    });

  const handlers16: Record<string, (p: Params) => Json | Promise<Json>> = {
    RemoteStartTransaction: (p) => {
      const idTag = p.idTag as string;
      const c = bootStatus === "Accepted" ? pickFree(p.connectorId as number | undefined) : undefined;
      if (!c) return { status: "Rejected" };
      const profile = p.chargingProfile as { chargingProfilePurpose: string; chargingSchedule: { chargingRateUnit: "A" | "W"; chargingSchedulePeriod: Period[] } } | undefined;
      if (profile) {
        if (profile.chargingProfilePurpose !== "TxProfile") return { status: "Rejected" };
        c.pendingTxLimitW = scheduleLimitW(profile.chargingSchedule.chargingRateUnit, profile.chargingSchedule.chargingSchedulePeriod);
      }
      remoteStart(c, idTag, {});
      return { status: "Accepted" };
    },
    RemoteStopTransaction: async (p) => {
      const find = () => connectors.find((x) => x.tx?.remoteId === p.transactionId && !x.tx?.stopping);
      // The StartTransaction.conf may have arrived in the same chunk as this CALL: let it land first.
      let c = find();
      if (!c && connectors.some((x) => x.tx && x.tx.remoteId === undefined)) {
        await new Promise((resolve) => setImmediate(resolve));
        c = find();
      }
      if (!c) return { status: "Rejected" };
      later(() => exclusive(c, () => stopTransaction(c, "remote")));
      if (behaviour === "demo") c.unplugAt = now() + (rng.between(10, 60) * 1000) / speed;
      return { status: "Accepted" };
    },
    Reset: (p) => {
      later(() => reboot(p.type === "Hard" ? "hardReset" : "softReset"));
      return { status: "Accepted" };
    },
    UnlockConnector: (p) => {
      const c = connectorById(p.connectorId);
      if (!c) return { status: "NotSupported" };
      later(() =>
        exclusive(c, async () => {
          if (c.tx) await stopTransaction(c, "unlock");
          await unplug(c);
        }),
      );
      return { status: "Unlocked" };
    },
    ChangeAvailability: (p) => {
      const target = p.type === "Operative";
      if (p.connectorId === 0) return { status: applyAvailability(target) };
      const c = connectorById(p.connectorId);
      if (!c) return { status: "Rejected" };
      return { status: applyAvailability(target, c) };
    },
    TriggerMessage: (p) => {
      const c = p.connectorId !== undefined && p.connectorId !== 0 ? connectorById(p.connectorId) : undefined;
      if (p.connectorId !== undefined && p.connectorId !== 0 && !c) return { status: "Rejected" };
      switch (p.requestedMessage) {
        case "BootNotification":
          triggerBoot();
          break;
        case "Heartbeat":
          later(() => call("Heartbeat", {}));
          break;
        case "StatusNotification":
          triggerStatus(c);
          break;
        case "MeterValues":
          triggerMeter(c);
          break;
        case "DiagnosticsStatusNotification":
          later(() => call("DiagnosticsStatusNotification", { status: "Idle" }));
          break;
        case "FirmwareStatusNotification":
          later(() => call("FirmwareStatusNotification", { status: "Idle" }));
          break;
        default:
          return { status: "NotImplemented" };
      }
      return { status: "Accepted" };
    },
    GetConfiguration: (p) => {
      const keys = (p.key as string[] | undefined) ?? [];
      const entry = (key: string, def: VarDef) => ({ key, readonly: def.readonly, value: readValue(def).slice(0, 500) });
      if (keys.length === 0) return { configurationKey: [...config16!.entries()].map(([k, d]) => entry(k, d)) };
      const known = keys.filter((k) => config16!.has(k));
      const unknownKey = keys.filter((k) => !config16!.has(k));
      return { configurationKey: known.map((k) => entry(k, config16!.get(k)!)), ...(unknownKey.length ? { unknownKey } : {}) };
    },
    ChangeConfiguration: (p) => {
      const key = p.key as string;
      const value = p.value as string;
      const def = config16!.get(key);
      if (!def) return { status: "NotSupported" };
      if (def.readonly || invalidValue(def, value)) return { status: "Rejected" };
      def.value = value;
      onSettingChanged(key, value);
      return { status: "Accepted" };
    },
    ClearCache: () => ({ status: "Accepted" }),
    DataTransfer: () => ({ status: "UnknownVendorId" }),
    SetChargingProfile: (p) => {
      const connectorId = p.connectorId as number;
      const profile = p.csChargingProfiles as {
        chargingProfilePurpose: string;
        transactionId?: number;
        chargingSchedule: { chargingRateUnit: "A" | "W"; chargingSchedulePeriod: Period[] };
      };
      const limit = scheduleLimitW(profile.chargingSchedule.chargingRateUnit, profile.chargingSchedule.chargingSchedulePeriod);
      const purpose = profile.chargingProfilePurpose === "ChargePointMaxProfile" ? "station" : profile.chargingProfilePurpose;
      const answer = applyChargingLimit({ targetId: connectorId, purpose, limit, matchesTx: (tx) => profile.transactionId === undefined || profile.transactionId === tx.remoteId });
      if (answer.status === "Accepted") {
        later(async () => {
          for (const x of connectors) await syncStatus(x);
        });
      }
      return answer;
    },
    ClearChargingProfile: (p) => {
      const purpose = p.chargingProfilePurpose as string | undefined;
      connectors.forEach((x) => advance(x));
      const before = JSON.stringify([station.maxLimitW, station.defaultLimitW, connectors.map((c) => [c.defaultLimitW, c.txLimitW])]);
      if (!purpose || purpose === "ChargePointMaxProfile") station.maxLimitW = undefined;
      if (!purpose || purpose === "TxDefaultProfile") {
        station.defaultLimitW = undefined;
        for (const c of connectors) c.defaultLimitW = undefined;
      }
      if (!purpose || purpose === "TxProfile") for (const c of connectors) c.txLimitW = undefined;
      const after = JSON.stringify([station.maxLimitW, station.defaultLimitW, connectors.map((c) => [c.defaultLimitW, c.txLimitW])]);
      return { status: before !== after ? "Accepted" : "Unknown" };
    },
  };

  const findVar = (component: Component, variable: Variable): { def?: DeviceVar; status?: "UnknownComponent" | "UnknownVariable" } => {
    const inComponent = vars201!.filter((v) => sameComponent(v.component, component));
    if (inComponent.length === 0) return { status: "UnknownComponent" };
    const def = inComponent.find((v) => sameVariable(v.variable, variable));
    return def ? { def } : { status: "UnknownVariable" };
  };

  const sendReport = async (requestId: number, base: string) => {
    const selected = vars201!.filter((v) =>
      base === "ConfigurationInventory" ? !v.readonly : base === "SummaryInventory" ? v.variable.name === "AvailabilityState" : true,
    );
    const reportData = selected.map((v) => ({
      component: v.component,
      variable: v.variable,
      variableAttribute: [{ type: "Actual", value: readValue(v).slice(0, 2500), mutability: v.readonly ? "ReadOnly" : "ReadWrite", persistent: true, constant: v.readonly && !v.get }],
      variableCharacteristics: {
        dataType: dataType201(v),
        supportsMonitoring: false,
        ...(v.unit ? { unit: v.unit } : {}),
        ...(v.values && v.values.length ? { valuesList: v.values.join(",").slice(0, 1000) } : {}),
      },
    }));
    const generatedAt = iso();
    const chunk = 20;
    for (let i = 0, seqNo = 0; i < reportData.length || seqNo === 0; i += chunk, seqNo++) {
      const part = reportData.slice(i, i + chunk);
      await call("NotifyReport", { requestId, generatedAt, seqNo, tbc: i + chunk < reportData.length, ...(part.length ? { reportData: part } : {}) });
    }
  };

  /** A 2.0.1 "no" with the station's reason (statusInfo), as operators should see it. */
  const rejected = (reasonCode: string, additionalInfo?: string, status = "Rejected") => ({ status, statusInfo: { reasonCode, ...(additionalInfo ? { additionalInfo } : {}) } });
  const handlers201: Record<string, (p: Params) => Json | Promise<Json>> = {
    RequestStartTransaction: (p) => {
      const idToken = p.idToken as { idToken: string; type: string };
      const c = bootStatus === "Accepted" ? pickFree(p.evseId as number | undefined) : undefined;
      if (!c) {
        const wanted = p.evseId !== undefined ? connectorById(p.evseId) : undefined;
        if (p.evseId !== undefined && !wanted) return rejected("UnknownEvse", `this station has no EVSE ${String(p.evseId)}`);
        if (wanted?.tx || (p.evseId === undefined && connectors.every((x) => x.tx))) return rejected("TxInProgress", "a transaction is already running there");
        return rejected("Unavailable", "no EVSE is available for a transaction");
      }
      const profile = p.chargingProfile as
        | { chargingProfilePurpose: string; chargingSchedule: { chargingRateUnit: "A" | "W"; chargingSchedulePeriod: Period[] }[] }
        | undefined;
      if (profile) {
        if (profile.chargingProfilePurpose !== "TxProfile") return { status: "Rejected" };
        const s = profile.chargingSchedule[0];
        c.pendingTxLimitW = s ? scheduleLimitW(s.chargingRateUnit, s.chargingSchedulePeriod) : undefined;
      }
      remoteStart(c, idToken.idToken.slice(0, 36), { remoteStartId: p.remoteStartId as number, tokenType: idToken.type });
      return { status: "Accepted" };
    },
    RequestStopTransaction: (p) => {
      const c = connectors.find((x) => x.tx?.localId === p.transactionId && !x.tx?.stopping);
      if (!c) return rejected("UnknownTxId", `no running transaction ${String(p.transactionId)}`);
      later(() => exclusive(c, () => stopTransaction(c, "remote")));
      if (behaviour === "demo") c.unplugAt = now() + (rng.between(10, 60) * 1000) / speed;
      return { status: "Accepted" };
    },
    Reset: (p) => {
      const onIdle = p.type === "OnIdle";
      if (p.evseId !== undefined && p.evseId !== 0) {
        const c = connectorById(p.evseId);
        if (!c) return rejected("UnknownEvse");
        if (onIdle && c.tx) {
          c.pendingReset = true;
          return { status: "Scheduled" };
        }
        later(() => exclusive(c, () => evseReset(c)));
        return { status: "Accepted" };
      }
      if (onIdle && connectors.some((c) => c.tx)) {
        station.pendingReset = true;
        return { status: "Scheduled" };
      }
      later(() => reboot("immediateReset"));
      return { status: "Accepted" };
    },
    UnlockConnector: (p) => {
      const c = connectorById(p.evseId);
      if (!c || p.connectorId !== 1) return { status: "UnknownConnector" };
      if (c.tx) return rejected("TxInProgress", "unlocking would end a running transaction", "OngoingAuthorizedTransaction");
      later(() => exclusive(c, () => unplug(c)));
      return { status: "Unlocked" };
    },
    ChangeAvailability: (p) => {
      const target = p.operationalStatus === "Operative";
      const evse = p.evse as { id: number; connectorId?: number } | undefined;
      if (!evse || evse.id === 0) return { status: applyAvailability(target) };
      const c = connectorById(evse.id);
      if (!c || (evse.connectorId !== undefined && evse.connectorId !== 1)) return { status: "Rejected" };
      return { status: applyAvailability(target, c) };
    },
    TriggerMessage: (p) => {
      const evse = p.evse as { id: number; connectorId?: number } | undefined;
      const c = evse && evse.id !== 0 ? connectorById(evse.id) : undefined;
      if (evse && evse.id !== 0 && !c) return { status: "Rejected" };
      switch (p.requestedMessage) {
        case "BootNotification":
          // B01: a station that is already accepted refuses a triggered boot.
          if (bootStatus === "Accepted") return { status: "Rejected" };
          triggerBoot();
          break;
        case "Heartbeat":
          later(() => call("Heartbeat", {}));
          break;
        case "StatusNotification":
          triggerStatus(c);
          break;
        case "MeterValues":
          triggerMeter(c);
          break;
        case "TransactionEvent": {
          const targets = (c ? [c] : connectors).filter((x) => x.tx?.active && !x.tx.stopping);
          if (targets.length === 0) return { status: "Rejected" };
          later(async () => {
            for (const x of targets) await sendMeter(x, "Trigger");
          });
          break;
        }
        case "LogStatusNotification":
          later(() => call("LogStatusNotification", { status: "Idle" }));
          break;
        case "FirmwareStatusNotification":
          later(() => call("FirmwareStatusNotification", { status: "Idle" }));
          break;
        default:
          return { status: "NotImplemented" };
      }
      return { status: "Accepted" };
    },
    GetVariables: (p) => {
      const items = p.getVariableData as { component: Component; variable: Variable; attributeType?: string }[];
      return {
        getVariableResult: items.map(({ component, variable, attributeType }) => {
          const base = { component, variable, ...(attributeType ? { attributeType } : {}) };
          const { def, status } = findVar(component, variable);
          if (!def) return { ...base, attributeStatus: status! };
          if (attributeType && attributeType !== "Actual") return { ...base, attributeStatus: "NotSupportedAttributeType" };
          return { ...base, attributeStatus: "Accepted", attributeValue: readValue(def).slice(0, 2500) };
        }),
      };
    },
    SetVariables: (p) => {
      const items = p.setVariableData as { component: Component; variable: Variable; attributeType?: string; attributeValue: string }[];
      return {
        setVariableResult: items.map(({ component, variable, attributeType, attributeValue }) => {
          const base = { component, variable, ...(attributeType ? { attributeType } : {}) };
          const { def, status } = findVar(component, variable);
          if (!def) return { ...base, attributeStatus: status! };
          if (attributeType && attributeType !== "Actual") return { ...base, attributeStatus: "NotSupportedAttributeType" };
          const problem = def.readonly ? "read-only" : invalidValue(def, attributeValue);
          if (problem) return { ...base, attributeStatus: "Rejected", attributeStatusInfo: { reasonCode: "InvalidValue", additionalInfo: problem.slice(0, 512) } };
          def.value = attributeValue;
          onSettingChanged(variable.name, attributeValue);
          return { ...base, attributeStatus: "Accepted" };
        }),
      };
    },
    GetBaseReport: (p) => {
      later(() => sendReport(p.requestId as number, p.reportBase as string));
      return { status: "Accepted" };
    },
    ClearCache: () => ({ status: "Accepted" }),
    DataTransfer: () => ({ status: "UnknownVendorId" }),
    SetChargingProfile: (p) => {
      const evseId = p.evseId as number;
      const profile = p.chargingProfile as {
        chargingProfilePurpose: string;
        transactionId?: string;
        chargingSchedule: { chargingRateUnit: "A" | "W"; chargingSchedulePeriod: Period[] }[];
      };
      const s = profile.chargingSchedule[0];
      const limit = s ? scheduleLimitW(s.chargingRateUnit, s.chargingSchedulePeriod) : undefined;
      const stationWide = ["ChargingStationMaxProfile", "ChargingStationExternalConstraints"].includes(profile.chargingProfilePurpose);
      return applyChargingLimit({
        targetId: evseId,
        purpose: stationWide ? "station" : profile.chargingProfilePurpose,
        limit,
        matchesTx: (tx) => profile.transactionId === undefined || profile.transactionId === tx.localId,
      });
    },
    ClearChargingProfile: () => {
      connectors.forEach((x) => advance(x));
      const had = station.maxLimitW !== undefined || station.defaultLimitW !== undefined || connectors.some((c) => c.defaultLimitW !== undefined || c.txLimitW !== undefined);
      station.maxLimitW = undefined;
      station.defaultLimitW = undefined;
      for (const c of connectors) c.defaultLimitW = c.txLimitW = undefined;
      return { status: had ? "Accepted" : "Unknown" };
    },
    GetTransactionStatus: (p) => {
      if (typeof p.transactionId !== "string") return { messagesInQueue: false };
      return { ongoingIndicator: connectors.some((c) => c.tx?.localId === p.transactionId), messagesInQueue: false };
    },
  };

  for (const [action, fn] of Object.entries(v16 ? handlers16 : handlers201)) {
    client.handle(action, async ({ params }) => {
      log.debug({ action }, "command received");
      return fn((params ?? {}) as Params);
    });
  }

  // ---------- timers and behaviour ----------

  let lastTick = now();
  const tick = (t: number) => {
    if (closed) return;
    const dtS = ((t - lastTick) / 1000) * speed;
    lastTick = t;
    if (canSend() && t >= nextHeartbeatAt) {
      nextHeartbeatAt = t + heartbeatIntervalS * 1000;
      void call("Heartbeat", {});
    }
    for (const c of connectors) {
      const tx = c.tx;
      if (tx?.active && !tx.stopping && t >= tx.nextMeterAt && canSend()) {
        tx.nextMeterAt = t + meterIntervalMs();
        void sendMeter(c, "Sample.Periodic").then(() => syncStatus(c));
      }
      if (c.faulted?.until !== undefined && t >= c.faulted.until) background(c, () => clearFault(c));
      if (behaviour === "demo" && !c.busy && canSend()) demo(c, t, dtS);
    }
  };

  /** Starts a flow in the background; a failure is logged, never an unhandled rejection. */
  const background = (c: Connector, fn: () => Promise<unknown>) =>
    void exclusive(c, fn).catch((error: unknown) => log.warn({ connector: c.id, err: (error as Error).message }, "station flow failed"));

  const demo = (c: Connector, t: number, dtS: number) => {
    if (c.faulted) return;
    if (!c.plugged && !c.tx && canStart(c)) {
      if (rng.happens(dtS, MEAN_IDLE_S)) background(c, () => plugIn(c));
    } else if (c.tx?.active && !c.tx.stopping && c.ev) {
      if (c.leaveAt === undefined) {
        advance(c, t);
        const done = c.ev.socPct >= c.ev.targetSocPct;
        // Most drivers leave when the car is full enough, some earlier.
        if (done || rng.happens(dtS, MEAN_EARLY_LEAVE_S)) c.leaveAt = t + (rng.between(done ? 30 : 0, done ? 600 : 5) * 1000) / speed;
      } else if (t >= c.leaveAt) {
        c.leaveAt = undefined;
        c.unplugAt = t + (rng.between(10, 60) * 1000) / speed;
        background(c, () => stopTransaction(c, "local"));
      }
    } else if (c.plugged && !c.tx) {
      if (c.unplugAt === undefined) c.unplugAt = t + (rng.between(10, 60) * 1000) / speed;
      else if (t >= c.unplugAt) background(c, () => unplug(c));
    }
    if (!c.busy && !c.faulted && rng.happens(dtS, MEAN_FAULT_S)) {
      background(c, () => fault(c, { durationMs: (rng.between(30, 300) * 1000) / speed }));
    }
  };
  const removeTick = scheduler.add(tick);

  void connectLoop();

  const byId = (connectorId: number) => {
    const c = connectors[connectorId - 1];
    if (!c) throw new Error(`station ${id} has no connector ${connectorId}`);
    return c;
  };

  return {
    id,
    protocol,
    state: () => {
      const t = now();
      return {
        id,
        protocol,
        kind,
        connected,
        bootStatus,
        heartbeatIntervalS,
        operative: station.operative,
        connectors: connectors.map((c) => {
          advance(c, t);
          return {
            id: c.id,
            status: c.lastStatus,
            plugged: c.plugged,
            operative: c.operative,
            faulted: !!c.faulted,
            powerW: c.flow.powerW,
            energyWh: c.flow.energyWh,
            ...(c.ev ? { socPct: c.ev.socPct } : {}),
            ...(c.tx
              ? {
                  transaction: {
                    id: v16 ? String(c.tx.remoteId ?? "") : c.tx.localId,
                    idTag: c.tx.idTag,
                    startedAt: c.tx.startedAt,
                    meterStartWh: c.tx.meterStartWh,
                    energyWh: c.flow.energyWh - c.tx.meterStartWh,
                    active: c.tx.active,
                  },
                }
              : {}),
          };
        }),
        stats: { ...stats, queuedTxMessages: txQueue.size(), txMessagesSentLater: txQueue.sentLater() },
      };
    },
    waitForBoot: () => (bootStatus === "Accepted" ? Promise.resolve() : new Promise<void>((resolve) => bootWaiters.push(resolve))),
    plugIn: (connectorId, o) => {
      const c = byId(connectorId);
      return exclusive(c, () => plugIn(c, o));
    },
    unplug: (connectorId) => {
      const c = byId(connectorId);
      return exclusive(c, () => unplug(c));
    },
    stopTransaction: (connectorId) => {
      const c = byId(connectorId);
      return exclusive(c, () => stopTransaction(c, "local"));
    },
    fault: (connectorId, o) => {
      const c = byId(connectorId);
      return exclusive(c, () => fault(c, o));
    },
    clearFault: (connectorId) => clearFault(byId(connectorId)),
    close: async () => {
      if (closed) return;
      closed = true;
      removeTick();
      ownScheduler?.stop();
      for (const wake of [...sleepers]) wake();
      const done = await Promise.race([
        client.close({ code: 1000, reason: "simulator stopped" }).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref()),
      ]).catch(() => false);
      if (!done) await client.close({ force: true }).catch(() => {});
    },
  };
};
