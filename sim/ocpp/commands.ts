import type { Boot, BootConf } from "./boot";
import type { Core } from "./core";
import type { Meter } from "./meter";
import { limitToWatts } from "./physics";
import type { Session } from "./session";
import type { Settings } from "./settings";
import type { Connector } from "./types";
import type { Wire } from "./wire";

/**
 * The version-neutral halves of the CSMS → station commands, which handlers16.ts and
 * handlers201.ts translate from and to their protocol's messages.
 */

export type Period = { startPeriod: number; limit: number; numberPhases?: number };

export const createCommands = (ctx: Core & Wire & Settings & Meter & Session & Boot) => {
  const { v16, charger, connectors, station, advance, canStart, connectorById, statusOf, station0Status } = ctx;
  const { call, later, onSettingChanged, sendMeter, sendStatus, syncStatus, syncAll, plugIn, startTransaction, exclusive, bootPayload } = ctx;

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

  return { applyChargingLimit, pickFree, scheduleLimitW, remoteStart, applyAvailability, triggerStatus, triggerMeter, triggerBoot };
};

export type Commands = ReturnType<typeof createCommands>;
/** Everything a station's command handlers and behaviour work with. */
export type StationContext = Core & Wire & Settings & Meter & Session & Boot & Commands;
