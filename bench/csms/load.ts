import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import WebSocket from "ws";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import { Histogram, type HistogramData } from "./hist";
import * as ocpp from "./ocpp";

/**
 * One load-generator process (forked by bench/csms/main.ts). It opens its share of
 * stations over raw websockets with hand-built OCPP-J frames, runs the scripted workload
 * and, at the end, ships histograms, counters and the send times of status changes to
 * the parent over IPC. Everything stops by itself at `endAt`.
 */

export type LoadInit = {
  type: "init";
  procIndex: number;
  /** Gateway websocket URLs: station i connects to urls[i % urls.length]. */
  urls: string[];
  /** Global station indexes handled here (station i is started at t0 + i / rampPerSec). */
  indexes: number[];
  idPrefix: string;
  ratio16: number;
  rampPerSec: number;
  /** Epoch ms of the end of the scheduled ramp (calls sent before it count as "ramp"). */
  steadyMs: number;
  heartbeatSec: number;
  statusEverySec: number;
  txFraction: number;
  txSec: number;
  meterSec: number;
  callTimeoutMs: number;
  connectRetries: number;
};
export type LoadGo = { type: "go"; t0: number };
export type LoadStop = { type: "exit" };

export type StatusSend = { s: string; k: string; st: string; t: number };
export type LoadReport = {
  type: "report";
  procIndex: number;
  stations: number;
  connected: number;
  booted: number;
  /** Epoch ms when this process's last station finished its boot + status storm. */
  lastBootedAt: number;
  firstSendAt: number;
  lastAnswerAt: number;
  hist: Record<string, HistogramData>;
  counters: Record<string, number>;
  errorCodes: Record<string, number>;
  /** Answered calls per second since t0 (index = second). */
  perSecond: number[];
  statusSends: StatusSend[];
  /** This process's own event-loop delay (ms) from go to the report: a lagging generator skews latencies. */
  loopLag: { p50: number; p99: number; max: number };
};

const now = () => performance.timeOrigin + performance.now();

type Pending = { id: string; action: string; sentAt: number; steady: boolean; timer: NodeJS.Timeout; done: (ok: boolean, payload: unknown) => void };
type Station = {
  index: number;
  id: string;
  version: OcppVersion;
  ws?: WebSocket;
  open: boolean;
  booted: boolean;
  attempts: number;
  queue: { call: ocpp.Call; done?: (ok: boolean, payload: unknown) => void; onSend?: (at: number) => void }[];
  inFlight?: Pending;
  seq: number;
  statuses: Map<string, string>;
  timers: NodeJS.Timeout[];
  closedByUs: boolean;
  /** Ids of calls given up on (timeout): an answer for one later is late, not a duplicate. */
  timedOut: Set<string>;
};

let init: LoadInit | undefined;
let t0 = 0;
let endAt = 0;
let rampEndAt = 0;
const stations: Station[] = [];
const hist: Record<string, Histogram> = {};
const counters: Record<string, number> = {};
const errorCodes: Record<string, number> = {};
const perSecond: number[] = [];
const statusSends: StatusSend[] = [];
let firstSendAt = 0;
let lastAnswerAt = 0;
let lastBootedAt = 0;
let stopping = false;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

const count = (name: string, n = 1) => (counters[name] = (counters[name] ?? 0) + n);
const h = (name: string) => (hist[name] ??= new Histogram());

const stationIdOf = (prefix: string, i: number) => `${prefix}${String(i + 1).padStart(5, "0")}`;
const versionOf = (i: number, ratio16: number): OcppVersion => (Math.floor((i + 1) * ratio16) > Math.floor(i * ratio16) ? "ocpp1.6" : "ocpp2.0.1");

/** A deterministic per-station pseudo-random number in [0, 1). */
const rand = (i: number, salt: number) => {
  let x = (i + 1) * 2654435761 + salt * 97531;
  x = Math.imul(x ^ (x >>> 16), 2246822507);
  x = Math.imul(x ^ (x >>> 13), 3266489909);
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
};

const active = () => !stopping && now() < endAt;

const later = (st: Station, ms: number, fn: () => void) => {
  const timer = setTimeout(() => {
    st.timers.splice(st.timers.indexOf(timer), 1);
    if (active() && st.open) fn();
  }, Math.max(0, ms));
  st.timers.push(timer);
};

// ---------- OCPP-J over raw ws ----------

const pump = (st: Station) => {
  if (st.inFlight || !st.open || !st.ws) return;
  const next = st.queue.shift();
  if (!next) return;
  const id = String(++st.seq);
  const sentAt = now();
  if (!firstSendAt) firstSendAt = sentAt;
  const frame = JSON.stringify([2, id, next.call.action, next.call.payload]);
  const pending: Pending = {
    id,
    action: next.call.action,
    sentAt,
    steady: sentAt >= rampEndAt,
    timer: setTimeout(() => {
      if (st.inFlight !== pending) return;
      st.inFlight = undefined;
      st.timedOut.add(id);
      count("timeouts");
      next.done?.(false, "timeout");
      pump(st);
    }, init!.callTimeoutMs),
    done: (ok, payload) => next.done?.(ok, payload),
  };
  st.inFlight = pending;
  next.onSend?.(sentAt);
  st.ws.send(frame);
  count("sent");
};

const onFrame = (st: Station, data: WebSocket.RawData) => {
  let msg: unknown[];
  try {
    msg = JSON.parse(data.toString()) as unknown[];
  } catch {
    count("badFrames");
    return;
  }
  if (!Array.isArray(msg)) return count("badFrames");
  const [type, id] = msg as [number, string];
  if (type === 2) {
    // A CSMS-initiated call: the benchmark's stations support none of them.
    count("csmsCalls");
    st.ws?.send(JSON.stringify([4, id, "NotSupported", "load generator", {}]));
    return;
  }
  const p = st.inFlight;
  if (!p || p.id !== id) {
    // Calls go one at a time, so an answer for an earlier id was either given up on or answered already.
    if (st.timedOut.delete(String(id))) return count("lateAnswers");
    const n = Number(id);
    if (Number.isInteger(n) && n >= 1 && n <= st.seq) return count("duplicateAnswers");
    return count("unmatchedAnswers");
  }
  st.inFlight = undefined;
  clearTimeout(p.timer);
  const at = now();
  lastAnswerAt = at;
  const ms = at - p.sentAt;
  h("all").record(ms);
  h(p.steady ? "steady" : "ramp").record(ms);
  h(`action:${p.action}`).record(ms);
  const sec = Math.floor((at - t0) / 1000);
  if (sec >= 0) perSecond[sec] = (perSecond[sec] ?? 0) + 1;
  if (type === 3) {
    count("answered");
    p.done(true, msg[2]);
  } else {
    count("answered");
    count("callErrors");
    const code = `${p.action}:${String(msg[2])}`;
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    p.done(false, msg[2]);
  }
  pump(st);
};

const call = (st: Station, c: ocpp.Call, done?: (ok: boolean, payload: unknown) => void, onSend?: (at: number) => void) => {
  st.queue.push({ call: c, done, onSend });
  pump(st);
};

/** A StatusNotification; changes on connectors > 0 are recorded for the event → view latency. */
const sendStatus = (st: Station, evseId: number, connectorId: number, status: string) => {
  const key = `${evseId}/${connectorId}`;
  const changed = st.statuses.get(key) !== status;
  st.statuses.set(key, status);
  call(
    st,
    ocpp.statusNotification(st.version, evseId, connectorId, status, Date.now()),
    undefined,
    changed && connectorId > 0 ? (at) => statusSends.push({ s: st.id, k: key, st: status, t: at }) : undefined,
  );
};

// ---------- the workload ----------

const afterBoot = (st: Station) => {
  const cfg = init!;
  // Status storm: every connector (1.6 connector 0 = the station itself).
  for (const [evse, conn] of ocpp.connectorsOf(st.version)) sendStatus(st, evse, conn, "Available");
  call(st, ocpp.heartbeat(), () => {
    lastBootedAt = Math.max(lastBootedAt, now());
    count("stormDone");
  });

  // Heartbeats, phase-shifted per station.
  const hbMs = cfg.heartbeatSec * 1000;
  const beat = () => {
    call(st, ocpp.heartbeat());
    later(st, hbMs, beat);
  };
  later(st, rand(st.index, 1) * hbMs, beat);

  const txStation = rand(st.index, 2) < cfg.txFraction;
  if (txStation) later(st, 1000 + rand(st.index, 3) * 5000, () => runTransaction(st));

  // Status changes on the last connector (the one transactions never use).
  if (cfg.statusEverySec > 0) {
    const [evse, conn] = ocpp.connectorsOf(st.version).at(-1)!;
    const everyMs = cfg.statusEverySec * 1000;
    const toggle = () => {
      sendStatus(st, evse, conn, st.statuses.get(`${evse}/${conn}`) === "Available" ? "Unavailable" : "Available");
      later(st, everyMs, toggle);
    };
    later(st, rand(st.index, 4) * everyMs, toggle);
  }
};

const runTransaction = (st: Station) => {
  const cfg = init!;
  const v16 = st.version === "ocpp1.6";
  const idTag = `BENCH${String(st.index).padStart(6, "0")}`;
  const powerW = 11_000;
  let wh = 1_000_000 + st.index * 10;
  const startedAt = now();
  const evse = 1;
  count("txStarted");
  sendStatus(st, evse, 1, ocpp.txStatus(st.version, "plugged"));
  const meterMs = cfg.meterSec * 1000;
  const stopAt = startedAt + cfg.txSec * 1000;
  const energy = () => {
    wh = 1_000_000 + st.index * 10 + (powerW * (now() - startedAt)) / 3_600_000;
    return wh;
  };

  if (v16) {
    call(st, ocpp.startTransaction16(1, idTag, wh, Date.now()), (ok, res) => {
      const txId = ok ? Number((res as { transactionId?: unknown })?.transactionId) : NaN;
      if (!Number.isInteger(txId)) return count("txStartFailed");
      sendStatus(st, evse, 1, ocpp.txStatus(st.version, "charging"));
      const tick = () => {
        if (now() >= stopAt) {
          call(st, ocpp.stopTransaction16(txId, idTag, energy(), Date.now()), (okStop) => count(okStop ? "txStopped" : "txStopFailed"));
          sendStatus(st, evse, 1, ocpp.txStatus(st.version, "finishing"));
          sendStatus(st, evse, 1, ocpp.txStatus(st.version, "free"));
          return;
        }
        call(st, ocpp.meterValues16(1, txId, energy(), powerW, Date.now()));
        later(st, meterMs, tick);
      };
      later(st, meterMs, tick);
    });
    return;
  }
  const txId = `${st.id}-${Date.now().toString(36)}`;
  let seqNo = 0;
  call(st, ocpp.transactionEvent201("Started", txId, seqNo++, evse, idTag, wh, 0, Date.now()), (ok) => {
    if (!ok) return count("txStartFailed");
    const tick = () => {
      if (now() >= stopAt) {
        call(st, ocpp.transactionEvent201("Ended", txId, seqNo++, evse, idTag, energy(), 0, Date.now()), (okStop) => count(okStop ? "txStopped" : "txStopFailed"));
        sendStatus(st, evse, 1, ocpp.txStatus(st.version, "free"));
        return;
      }
      call(st, ocpp.transactionEvent201("Updated", txId, seqNo++, evse, idTag, energy(), powerW, Date.now()));
      later(st, meterMs, tick);
    };
    later(st, meterMs, tick);
  });
};

const connect = (st: Station) => {
  const cfg = init!;
  if (stopping) return;
  st.attempts += 1;
  const started = now();
  const auth = Buffer.from(`${st.id}:bench-password`).toString("base64");
  const ws = new WebSocket(`${cfg.urls[st.index % cfg.urls.length]}/ws/${st.id}`, [st.version], {
    headers: { authorization: `Basic ${auth}` },
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  st.ws = ws;
  let opened = false;
  ws.on("open", () => {
    opened = true;
    st.open = true;
    const at = now();
    h("connect").record(at - started);
    count("connected");
    call(st, ocpp.boot(st.version, st.id), (ok, res) => {
      const status = ok ? (res as { status?: string })?.status : undefined;
      if (status !== "Accepted") {
        count("bootNotAccepted");
        // Retry once the interval says so (bounded by the run's end).
        later(st, 5000, () => connectBootRetry(st));
        return;
      }
      st.booted = true;
      h("connectBoot").record(now() - started);
      count("booted");
      afterBoot(st);
    });
  });
  ws.on("message", (data) => onFrame(st, data));
  ws.on("error", () => {
    if (!opened) count("connectErrors");
    else count("socketErrors");
  });
  ws.on("unexpected-response", (_req, res) => {
    count(`upgradeRefused:${res.statusCode}`);
    res.resume();
  });
  ws.on("close", () => {
    const wasOpen = st.open;
    st.open = false;
    for (const t of st.timers) clearTimeout(t);
    st.timers = [];
    if (st.inFlight) {
      clearTimeout(st.inFlight.timer);
      st.inFlight = undefined;
    }
    st.queue = [];
    if (st.closedByUs || stopping) return;
    if (wasOpen) count("unexpectedCloses");
    if (st.attempts <= cfg.connectRetries && active()) setTimeout(() => connect(st), 1000 * st.attempts);
    else if (!wasOpen) count("connectFailed");
  });
};

const connectBootRetry = (st: Station) => call(st, ocpp.boot(st.version, st.id), (ok, res) => {
  if (ok && (res as { status?: string })?.status === "Accepted") {
    st.booted = true;
    count("booted");
    afterBoot(st);
  } else later(st, 5000, () => connectBootRetry(st));
});

// ---------- lifecycle ----------

const send = (msg: unknown) =>
  new Promise<void>((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });

const finish = async () => {
  stopping = true;
  // Let calls in flight finish (bounded).
  const deadline = now() + Math.min(init!.callTimeoutMs, 15_000);
  while (now() < deadline && stations.some((s) => s.inFlight)) await new Promise((r) => setTimeout(r, 50));
  const stillPending = stations.filter((s) => s.inFlight).length;
  if (stillPending) count("unansweredAtEnd", stillPending);
  for (const st of stations) for (const t of st.timers) clearTimeout(t);
  const report: LoadReport = {
    type: "report",
    procIndex: init!.procIndex,
    stations: stations.length,
    connected: stations.filter((s) => s.open).length,
    booted: stations.filter((s) => s.booted).length,
    lastBootedAt,
    firstSendAt,
    lastAnswerAt,
    hist: Object.fromEntries(Object.entries(hist).map(([k, v]) => [k, v.toJSON()])),
    counters,
    errorCodes,
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    statusSends,
    loopLag: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  };
  await send(report);
};

const closeAll = () => {
  stopping = true;
  for (const st of stations) {
    st.closedByUs = true;
    // terminate(): no close handshake, so thousands of sockets go away at once.
    st.ws?.terminate();
  }
};

process.on("message", (raw: LoadInit | LoadGo | LoadStop) => {
  if (raw.type === "init") {
    init = raw;
    for (const i of raw.indexes) {
      stations.push({
        index: i,
        id: stationIdOf(raw.idPrefix, i),
        version: versionOf(i, raw.ratio16),
        open: false,
        booted: false,
        attempts: 0,
        queue: [],
        seq: 0,
        statuses: new Map(),
        timers: [],
        closedByUs: false,
        timedOut: new Set(),
      });
    }
    void send({ type: "ready", procIndex: raw.procIndex });
    return;
  }
  if (raw.type === "go") {
    const cfg = init!;
    t0 = raw.t0;
    loopDelay.enable();
    const total = Math.max(...cfg.indexes) + 1;
    rampEndAt = t0 + (total / cfg.rampPerSec) * 1000;
    endAt = rampEndAt + cfg.steadyMs;
    // Station i starts at t0 + i / rate: one driver loop instead of a timer per station.
    let next = 0;
    const driver = setInterval(() => {
      const t = now();
      while (next < stations.length && t0 + (stations[next].index / cfg.rampPerSec) * 1000 <= t) connect(stations[next++]);
      if (next >= stations.length) clearInterval(driver);
    }, 5);
    setTimeout(() => void finish(), Math.max(0, endAt - now()));
    return;
  }
  if (raw.type === "exit") {
    closeAll();
    setTimeout(() => process.exit(0), 200);
  }
});

// The parent went away (crash, Ctrl-C): never linger.
process.on("disconnect", () => {
  closeAll();
  process.exit(0);
});
