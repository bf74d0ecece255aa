import { dataType201, invalidValue, readValue, sameComponent, sameVariable, type Component, type DeviceVar, type Variable } from "./config";
import type { Period, StationContext } from "./commands";
import { iso, type Handlers } from "./types";

/** A 2.0.1 "no" with the station's reason (statusInfo), as operators should see it. */
const rejected = (reasonCode: string, additionalInfo?: string, status = "Rejected") => ({ status, statusInfo: { reasonCode, ...(additionalInfo ? { additionalInfo } : {}) } });

/** The OCPP 2.0.1 CSMS → station commands (ocpp-rpc has validated `p` against its schema). */
export const createHandlers201 = (ctx: StationContext): Handlers => {
  const { connectors, station, link, behaviour, rng, speed, now, advance, connectorById, call, later } = ctx;
  const { stopTransaction, unplug, exclusive, evseReset, reboot, onSettingChanged, sendMeter } = ctx;
  const { applyChargingLimit, pickFree, scheduleLimitW, remoteStart, applyAvailability, triggerStatus, triggerMeter, triggerBoot } = ctx;
  const vars201 = ctx.vars201!;

  const findVar = (component: Component, variable: Variable): { def?: DeviceVar; status?: "UnknownComponent" | "UnknownVariable" } => {
    const inComponent = vars201.filter((v) => sameComponent(v.component, component));
    if (inComponent.length === 0) return { status: "UnknownComponent" };
    const def = inComponent.find((v) => sameVariable(v.variable, variable));
    return def ? { def } : { status: "UnknownVariable" };
  };

  const sendReport = async (requestId: number, base: string) => {
    const selected = vars201.filter((v) =>
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

  const handlers201: Handlers = {
    RequestStartTransaction: (p) => {
      const idToken = p.idToken as { idToken: string; type: string };
      const c = link.bootStatus === "Accepted" ? pickFree(p.evseId as number | undefined) : undefined;
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
          if (link.bootStatus === "Accepted") return { status: "Rejected" };
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

  return handlers201;
};
