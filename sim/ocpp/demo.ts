import type { StationContext } from "./commands";
import type { Connector } from "./types";

/**
 * The station's clock, called by the scheduler: heartbeats, periodic meter values, faults
 * that end by themselves, and (behaviour "demo") cars that arrive, charge and leave.
 */

// Demo behaviour, in simulated seconds.
const MEAN_IDLE_S = 15 * 60;
const MEAN_EARLY_LEAVE_S = 90 * 60;
const MEAN_FAULT_S = 8 * 3600;

export const createTicker = (ctx: StationContext) => {
  const { connectors, link, behaviour, rng, speed, log, now, advance, canStart, canSend, call, meterIntervalMs, sendMeter } = ctx;
  const { syncStatus, plugIn, unplug, stopTransaction, fault, clearFault, exclusive } = ctx;

  let lastTick = now();
  const tick = (t: number) => {
    if (link.closed) return;
    const dtS = ((t - lastTick) / 1000) * speed;
    lastTick = t;
    if (canSend() && t >= link.nextHeartbeatAt) {
      link.nextHeartbeatAt = t + link.heartbeatIntervalS * 1000;
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

  return tick;
};
