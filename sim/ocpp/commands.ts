import type { Boot, BootConf } from "./boot";
import type { Core } from "./core";
import type { Meter } from "./meter";
import { limitToWatts } from "./physics";
import type { Session } from "./session";
import type { Settings } from "./settings";
import type { Connector, Handlers } from "./types";
import type { Wire } from "./wire";

/**
 * The version-neutral halves of the CSMS → station commands, which handlers16.ts and
 * handlers201.ts translate from and to their protocol's messages.
 */

export type Period = { startPeriod: number; limit: number; numberPhases?: number };
export type Schedule = { chargingRateUnit: "A" | "W"; chargingSchedulePeriod: Period[] };

export const createCommands = (ctx: Core & Wire & Settings & Meter & Session & Boot) => {
  const { v16, charger, connectors, station, behaviour, rng, speed, now, advance, canStart, connectorById, statusOf, station0Status } = ctx;
  const { call, later, onSettingChanged, sendMeter, sendStatus, syncStatus, syncAll, plugIn, startTransaction, stopTransaction, exclusive, bootPayload } = ctx;

  /**
   * The version-neutral part of SetChargingProfile: where a limit lands (the whole station,
   * a connector's default, or its running transaction) and when it must be refused.
   */
  const applyChargingLimit = ({
    targetId,
    purpose,
    schedule,
    matchesTx,
  }: {
    targetId: number;
    purpose: string;
    schedule: Schedule | undefined;
    matchesTx: (tx: NonNullable<Connector["tx"]>) => boolean;
  }): { status: "Accepted" | "Rejected" } => {
    const limit = scheduleLimitW(schedule);
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

  /** A schedule's limit in W: its first period's (1.6 carries one schedule, 2.0.1 a list of which the first counts). */
  const scheduleLimitW = (schedule: Schedule | undefined) => {
    const first = schedule && [...schedule.chargingSchedulePeriod].sort((a, b) => a.startPeriod - b.startPeriod)[0];
    return first ? limitToWatts(charger, schedule.chargingRateUnit, first.limit, first.numberPhases) : undefined;
  };

  /** ClearChargingProfile: the limits of one purpose (all without one); Unknown when there was none. */
  const clearChargingLimits = (purpose?: "station" | "TxDefaultProfile" | "TxProfile"): { status: "Accepted" | "Unknown" } => {
    connectors.forEach((x) => advance(x));
    const limits = () => JSON.stringify([station.maxLimitW, station.defaultLimitW, connectors.map((c) => [c.defaultLimitW, c.txLimitW])]);
    const before = limits();
    if (!purpose || purpose === "station") station.maxLimitW = undefined;
    if (!purpose || purpose === "TxDefaultProfile") {
      station.defaultLimitW = undefined;
      for (const c of connectors) c.defaultLimitW = undefined;
    }
    if (!purpose || purpose === "TxProfile") for (const c of connectors) c.txLimitW = undefined;
    return { status: before !== limits() ? "Accepted" : "Unknown" };
  };

  /**
   * Starts a transaction the CSMS asked for, after plugging in a virtual car if none is.
   * A charging profile that came with the request must be a TxProfile (false: refuse the
   * request); its limit applies once the transaction starts.
   */
  const remoteStart = (
    c: Connector,
    idTag: string,
    extra: { remoteStartId?: number; tokenType?: string },
    profile?: { purpose: string; schedule: Schedule | undefined },
  ) => {
    if (profile) {
      if (profile.purpose !== "TxProfile") return false;
      c.pendingTxLimitW = scheduleLimitW(profile.schedule);
    }
    c.busy = true;
    later(() =>
      exclusive(c, async () => {
        if (!c.plugged) await plugIn(c, { autoStart: false });
        await startTransaction(c, idTag, { remote: true, ...extra });
      }),
    );
    return true;
  };
  /** Stops a transaction the CSMS asked to stop; in demo behaviour the driver leaves soon after. */
  const remoteStop = (c: Connector) => {
    later(() => exclusive(c, () => stopTransaction(c, "remote")));
    if (behaviour === "demo") c.unplugAt = now() + (rng.between(10, 60) * 1000) / speed;
  };

  /** ChangeAvailability of the station (no connector) or one connector; Scheduled while a transaction there runs. */
  const applyAvailability = (target: boolean, c?: Connector): "Accepted" | "Scheduled" => {
    const unit = c ?? station;
    if (!target && (c ? c.tx : connectors.some((x) => x.tx))) {
      unit.pendingOperative = false;
      return "Scheduled";
    }
    unit.operative = target;
    unit.pendingOperative = undefined;
    later(() => (c ? syncStatus(c) : syncAll()));
    return "Accepted";
  };

  /**
   * TriggerMessage for the messages both versions know (the version-specific ones stay in
   * handlers16.ts / handlers201.ts); false for one this station cannot send.
   */
  const trigger = (requested: unknown, c?: Connector) => {
    switch (requested) {
      case "BootNotification":
        later(async () => {
          const res = await call<BootConf>("BootNotification", { ...bootPayload(), ...(v16 ? {} : { reason: "Triggered" }) }, { force: true });
          if (res?.status === "Accepted" && res.interval > 0) onSettingChanged("HeartbeatInterval", String(res.interval));
        });
        return true;
      case "Heartbeat":
        later(() => call("Heartbeat", {}));
        return true;
      case "StatusNotification":
        later(async () => {
          if (c) return sendStatus(c, statusOf(c));
          if (v16) await sendStatus(0, station0Status());
          for (const x of connectors) await sendStatus(x, statusOf(x));
        });
        return true;
      case "MeterValues":
        later(async () => {
          for (const x of c ? [c] : connectors) await sendMeter(x, "Trigger");
        });
        return true;
      case "FirmwareStatusNotification":
        later(() => call("FirmwareStatusNotification", { status: "Idle" }));
        return true;
      default:
        return false;
    }
  };

  /** Commands both versions answer the same. */
  const commonHandlers: Handlers = {
    ClearCache: () => ({ status: "Accepted" }),
    DataTransfer: () => ({ status: "UnknownVendorId" }),
  };

  return { applyChargingLimit, clearChargingLimits, pickFree, remoteStart, remoteStop, applyAvailability, trigger, commonHandlers };
};

export type Commands = ReturnType<typeof createCommands>;
/** Everything a station's command handlers and behaviour work with. */
export type StationContext = Core & Wire & Settings & Meter & Session & Boot & Commands;
