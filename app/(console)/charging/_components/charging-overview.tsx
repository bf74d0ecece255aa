"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import { STATION_TILES, stationTileQuery } from "@/contracts/console/station-tiles";
import { KpiTiles, type Kpi } from "../../_components/ui/kpi-tiles";

/**
 * The stations tiles on the Overview: the same counts as on /charging (server/charging
 * get-kpis, the same predicate), each leading to the stations table with its filter applied.
 */
export const ChargingOverviewTiles = () => {
  const trpc = useTRPC();
  const kpis = useQuery(trpc.charging.kpis.queryOptions(undefined, { refetchInterval: 5000 }));
  const counts = kpis.data?.stationTiles;
  const items: Kpi[] = [
    { id: "stations", label: "Stations", value: kpis.data?.totalStations ?? "—", href: "/charging", action: "View every station", testId: "overview-charging-stations" },
    ...STATION_TILES.map(
      (tile): Kpi => ({
        id: tile.id,
        label: tile.label,
        value: counts?.[tile.id] ?? "—",
        tone: counts?.[tile.id] && tile.id !== "charging" ? (tile.id === "unavailable" ? "warn" : "danger") : undefined,
        href: `/charging?${stationTileQuery(tile.filter)}`,
        action: tile.action,
        testId: `overview-charging-${tile.id}`,
      }),
    ),
  ];
  return (
    <section className="section" aria-labelledby="charging-overview-h">
      <h2 id="charging-overview-h">Charge stations</h2>
      {kpis.isError ? <p className="muted">Could not read the charging figures.</p> : <KpiTiles items={items} label="Charge stations" testId="overview-charging" />}
    </section>
  );
};
