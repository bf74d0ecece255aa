import { invalidValue, readValue, type VarDef } from "./config";
import type { Period, StationContext } from "./commands";
import type { Handlers } from "./types";

/** The OCPP 1.6J CSMS → station commands (ocpp-rpc has validated `p` against its schema). */
export const createHandlers16 = (ctx: StationContext): Handlers => {
  const { connectors, station, link, behaviour, rng, speed, now, advance, connectorById, call, later } = ctx;
  const { stopTransaction, unplug, exclusive, syncStatus, reboot, onSettingChanged } = ctx;
  const { applyChargingLimit, pickFree, scheduleLimitW, remoteStart, applyAvailability, triggerStatus, triggerMeter, triggerBoot } = ctx;
  const config16 = ctx.config16!;

  return {
    RemoteStartTransaction: (p) => {
      const idTag = p.idTag as string;
      const c = link.bootStatus === "Accepted" ? pickFree(p.connectorId as number | undefined) : undefined;
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
      if (keys.length === 0) return { configurationKey: [...config16.entries()].map(([k, d]) => entry(k, d)) };
      const known = keys.filter((k) => config16.has(k));
      const unknownKey = keys.filter((k) => !config16.has(k));
      return { configurationKey: known.map((k) => entry(k, config16.get(k)!)), ...(unknownKey.length ? { unknownKey } : {}) };
    },
    ChangeConfiguration: (p) => {
      const key = p.key as string;
      const value = p.value as string;
      const def = config16.get(key);
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
};
