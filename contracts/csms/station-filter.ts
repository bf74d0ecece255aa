import type { ProtocolVersion, StationView } from "./api";

/** What the stations table (and a bulk command's target) can filter by. */
export type StationFilter = {
  /** Case-insensitive substring of the station id. */
  q?: string;
  online?: boolean;
  protocol?: ProtocolVersion;
  /** Any connector in this OCPP status. */
  status?: string;
};

export const matchesStationFilter = (station: StationView, { q, online, protocol, status }: StationFilter) =>
  (!q || station.id.toLowerCase().includes(q.toLowerCase())) &&
  (online === undefined || station.online === online) &&
  (!protocol || station.protocol === protocol) &&
  (!status || station.connectors.some((c) => c.status === status));
