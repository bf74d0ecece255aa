import type { TransactionDetail } from "@/contracts/csms";

/**
 * The chart's points: power in kW and the session's energy in kWh — the manager's
 * `sessionEnergyWh` where it gives one, else the register minus the register at the start
 * (or, when the station gave no start, the first reading) — never the absolute register,
 * which runs to thousands of kWh on any station in service.
 */
export const chartPoints = (tx: Pick<TransactionDetail, "meterStartWh" | "samples">) => {
  const base = tx.meterStartWh ?? tx.samples.find((s) => s.energyWh !== null)?.energyWh ?? 0;
  return tx.samples.map((s) => ({
    t: new Date(s.at).getTime(),
    powerKw: s.powerW === null ? null : s.powerW / 1000,
    energyKwh: typeof s.sessionEnergyWh === "number" ? s.sessionEnergyWh / 1000 : s.energyWh === null ? null : Math.max(0, s.energyWh - base) / 1000,
    soc: s.socPct,
  }));
};
