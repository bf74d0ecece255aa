import { logger } from "../../lib/log";
import { advanceCharging, CHARGERS, type Charger, type ChargerKind } from "./physics";
import { createRng } from "./rng";
import { createScheduler } from "./scheduler";
import type { Connector, StationSimOptions, StationState } from "./types";

/**
 * A station's state and the pure rules over it (status, power limits, physics), shared by
 * every module of the simulator: the link (wire.ts, boot.ts), the session flows
 * (session.ts, meter.ts), the command handlers (commands.ts, handlers16.ts, handlers201.ts)
 * and demo behaviour (demo.ts). Protocol timers run in wall-clock time; physics in
 * simulated time = wall time × `speed`.
 */
export const createCore = (opts: StationSimOptions) => {
  const { id, protocol } = opts;
  const v16 = protocol === "ocpp1.6";
  const rng = createRng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  const speed = opts.speed ?? 1;
  const behaviour = opts.behaviour ?? "idle";
  const kind: ChargerKind = opts.kind ?? rng.pick(["AC7", "AC11", "AC22", "AC22", "DC50"] as const);
  const charger: Charger = CHARGERS[kind];
  const n = opts.connectors ?? 2;
  const ownScheduler = opts.scheduler ? undefined : createScheduler({ tickMs: 50 });

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
  /** The connection and boot state (wire.ts, boot.ts). */
  const link = {
    bootStatus: "None" as StationState["bootStatus"],
    bootReason: "PowerUp",
    needBoot: true,
    connected: false,
    closed: false,
    rebooting: false,
    /** Between a Reset and the socket closing. */
    shuttingDown: false,
    connGen: 0,
    heartbeatIntervalS: 300,
    nextHeartbeatAt: Number.POSITIVE_INFINITY,
    bootWaiters: [] as (() => void)[],
  };
  const stats = { boots: 0, calls: 0, callErrors: 0, validationFailures: 0, reconnects: 0 };

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

  // ---------- physics ----------

  const advance = (c: Connector, t = now()) => {
    if (c.tx?.active && !c.tx.stopping && c.ev) {
      advanceCharging({ flow: c.flow, ev: c.ev, charger, limitW: limitFor(c), dtS: ((t - c.lastAdvance) / 1000) * speed });
    } else {
      c.flow.powerW = 0;
    }
    c.lastAdvance = t;
  };
  const connectorById = (connectorId: unknown) => (typeof connectorId === "number" ? connectors[connectorId - 1] : undefined);

  return {
    opts,
    id,
    protocol,
    v16,
    rng,
    speed,
    behaviour,
    kind,
    charger,
    model: `SY-${kind}`,
    rebootDelay: opts.rebootDelayMs ?? [1000, 3000],
    bootRetryMs: opts.bootRetryMs ?? 5000,
    log: (opts.log ?? logger()).child({ station: id, protocol }),
    ownScheduler,
    scheduler: opts.scheduler ?? ownScheduler!,
    now,
    connectors,
    station,
    link,
    stats,
    operative,
    canStart,
    limitFor,
    chargingState,
    status201,
    statusOf,
    station0Status,
    advance,
    connectorById,
  };
};

export type Core = ReturnType<typeof createCore>;
