import "server-only";
import { countStationTiles } from "../../contracts/console/station-tiles";
import { computeKpis } from "../../contracts/csms/kpis";
import { chargingStore } from "../connectors/csms";
import { getConnector } from "../connectors/kit/registry";

/** The store the running connector writes (the process-wide one, empty, when none runs). */
export const currentStore = () => getConnector("charging")?.store ?? chargingStore();

/** Fleet figures for the KPI tiles, from the live view; `link` and `synced` say how fresh they are. */
export const getKpis = () => {
  const charging = getConnector("charging");
  const stations = currentStore().stations;
  return { ...computeKpis(stations.values()), stationTiles: countStationTiles(stations.values()), link: charging?.view.link() ?? null, synced: charging?.view.status().synced ?? false };
};
