import type { StationView } from "./api";

export type ChargingKpis = {
  totalStations: number;
  online: number;
  offline: number;
  /** Connectors per OCPP status (only statuses that occur). */
  connectorStatus: Record<string, number>;
  totalConnectors: number;
  activeSessions: number;
  energyTodayWh: number;
  /** Sum of the stations' current power, where they report one. */
  powerW: number;
  byProtocol: Record<string, number>;
};

/** Fleet-wide figures for the KPI tiles, from the live view (one pass, fine for 50k stations). */
export const computeKpis = (stations: Iterable<StationView>): ChargingKpis => {
  const k: ChargingKpis = { totalStations: 0, online: 0, offline: 0, connectorStatus: {}, totalConnectors: 0, activeSessions: 0, energyTodayWh: 0, powerW: 0, byProtocol: {} };
  for (const s of stations) {
    k.totalStations++;
    if (s.online) k.online++;
    else k.offline++;
    for (const c of s.connectors) {
      k.totalConnectors++;
      k.connectorStatus[c.status] = (k.connectorStatus[c.status] ?? 0) + 1;
    }
    k.activeSessions += s.activeTransactionIds.length;
    k.energyTodayWh += s.energyTodayWh ?? 0;
    k.powerW += s.powerW ?? 0;
    const p = s.protocol ?? "unknown";
    k.byProtocol[p] = (k.byProtocol[p] ?? 0) + 1;
  }
  return k;
};
