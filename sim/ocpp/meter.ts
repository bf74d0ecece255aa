import type { Measurand } from "./config";
import type { Core } from "./core";
import { electrical } from "./physics";
import type { Settings } from "./settings";
import { iso, type Connector } from "./types";
import type { Wire } from "./wire";

/** Meter values in the station's protocol: 1.6 MeterValues, 2.0.1 TransactionEvent(Updated) or MeterValues. */

export const createMeter = ({ v16, charger, advance, chargingState, call, txCall, measurands }: Core & Wire & Settings) => {
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

  return { meterValue, sendMeter };
};

export type Meter = ReturnType<typeof createMeter>;
