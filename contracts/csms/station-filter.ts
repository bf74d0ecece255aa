import type { ProtocolVersion, StationView } from "./api";

/** What the stations table (and a bulk command's target) can filter by. */
export type StationFilter = {
  /** Case-insensitive substring of the station id, vendor, model or serial number. */
  q?: string;
  online?: boolean;
  protocol?: ProtocolVersion;
  /** Any connector in this OCPP status. */
  status?: string;
};

export const matchesStationFilter = (station: StationView, { q, online, protocol, status }: StationFilter) =>
  (!q || matchesStationSearch(station, q)) &&
  (online === undefined || station.online === online) &&
  (!protocol || station.protocol === protocol) &&
  (!status || station.connectors.some((c) => c.status === status));

/** Case-insensitive substring of id, vendor, model or serial number. */
export const matchesStationSearch = (station: Pick<StationView, "id" | "vendor" | "model" | "serialNumber">, q: string) => {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [station.id, station.vendor, station.model, station.serialNumber].some((v) => !!v && v.toLowerCase().includes(needle));
};
