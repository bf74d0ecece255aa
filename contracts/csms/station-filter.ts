import type { ProtocolVersion, StationView } from "./api";

/** What the stations table (and a bulk command's target) can filter by. */
export type StationFilter = {
  /** Case-insensitive substring of the station id, vendor, model or serial number. */
  q?: string;
  online?: boolean;
  protocol?: ProtocolVersion;
  /** Any connector in this OCPP status ("Charging" also matches a 2.0.1 connector in a session, see connectorIn). */
  status?: string;
};

type Connector = StationView["connectors"][number];

/**
 * Whether a connector is in `status`. OCPP 2.0.1 has no Charging connector status: a
 * connector in a session reports Occupied, and whether energy flows is the transaction's
 * chargingState. So for "Charging", an Occupied connector with an open transaction counts
 * too; without this the Charging tile missed every 2.0.1 session.
 */
export const connectorIn = (c: Connector, status: string) =>
  c.status === status || (status === "Charging" && c.status === "Occupied" && !!c.transactionId);

export const matchesStationFilter = (station: StationView, { q, online, protocol, status }: StationFilter) =>
  (!q || matchesStationSearch(station, q)) &&
  (online === undefined || station.online === online) &&
  (!protocol || station.protocol === protocol) &&
  (!status || station.connectors.some((c) => connectorIn(c, status)));

/** Case-insensitive substring of id, vendor, model or serial number. */
export const matchesStationSearch = (station: Pick<StationView, "id" | "vendor" | "model" | "serialNumber">, q: string) => {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [station.id, station.vendor, station.model, station.serialNumber].some((v) => !!v && v.toLowerCase().includes(needle));
};
