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

const SEARCHED = ["id", "vendor", "model", "serialNumber"] as const;

/** Whether `q` (already lower-cased) is part of the station's id, vendor, model or serial number. */
const matchesSearch = (station: StationView, q: string) => SEARCHED.some((field) => station[field]?.toLowerCase().includes(q));

export const matchesStationFilter = (station: StationView, { q, online, protocol, status }: StationFilter) =>
  (!q || matchesSearch(station, q.trim().toLowerCase())) &&
  (online === undefined || station.online === online) &&
  (!protocol || station.protocol === protocol) &&
  (!status || station.connectors.some((c) => c.status === status));
