import { randomUUID } from "node:crypto";
import type { Core } from "./core";
import type { Meter } from "./meter";
import { randomEv, type Ev } from "./physics";
import type { Rng } from "./rng";
import type { Settings } from "./settings";
import { iso, type Connector, type StopReason, type Transaction } from "./types";
import type { Wire } from "./wire";

/**
 * What happens at a connector, in the station's protocol: status notifications, plugging in
 * and out, authorizing, starting and stopping transactions, faults, and the availability
 * changes and resets that wait for a transaction to end.
 */

const ERROR_CODES = ["GroundFailure", "OverCurrentFailure", "HighTemperature", "PowerMeterFailure", "EVCommunicationError"];

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

/** A token from a small pool, so the CSMS sees the same drivers come back. */
const randomIdTag = (rng: Rng) => `SY${rng.int(0, 63).toString(16).padStart(2, "0").toUpperCase()}${rng.int(0x1000, 0xffff).toString(16).toUpperCase()}`.slice(0, 20);

export type RebootKind = "softReset" | "hardReset" | "immediateReset";

export const createSession = (
  ctx: Core & Wire & Settings & Meter,
  /** Late-bound: the reboot lives in boot.ts, which needs this module's flows. */
  reboot: (kind: RebootKind) => Promise<void>,
) => {
  const { v16, connectors, station, link, rng, behaviour, speed, log, now, canStart, statusOf, station0Status, advance, rebootDelay } = ctx;
  const { call, txCall, canSend, later, sleep, settingValue, meterIntervalMs, measurands, meterValue } = ctx;

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
    if (!canSend() || link.shuttingDown) return;
    if (!force && c.lastStatus === status) return;
    await sendStatus(c, status);
  };
  const sync0 = async ({ force = false } = {}) => {
    if (!v16 || !canSend() || link.shuttingDown) return;
    const status = station0Status();
    if (!force && station.lastStatus0 === status) return;
    await sendStatus(0, status);
  };
  const syncAll = async ({ force = false } = {}) => {
    await sync0({ force });
    for (const c of connectors) await syncStatus(c, { force });
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
    if (c.tx || c.faulted || !canStart(c) || link.bootStatus !== "Accepted") return false;
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

  // ---------- EVSE reset (2.0.1) ----------

  const evseReset = async (c: Connector) => {
    if (c.tx) await stopTransaction(c, "immediateReset");
    if (canSend()) await sendStatus(c, "Unavailable");
    await sleep(rng.int(rebootDelay[0], rebootDelay[1]));
    await syncStatus(c);
  };

  return { sendStatus, syncStatus, sync0, syncAll, startTransaction, stopTransaction, plugIn, unplug, fault, clearFault, exclusive, evseReset };
};

export type Session = ReturnType<typeof createSession>;
