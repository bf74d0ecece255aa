import "server-only";
import { z } from "zod";
import { STATION_TILES, type StationTileId } from "../../../../contracts/console/station-tiles";
import type { ChargingKpis } from "../../../../contracts/csms/kpis";
import { ZUpstreamStatus } from "../health/health.types";

const count = z.number().int().min(0);

export const ZChargingKpis = z.object({
  totalStations: count,
  online: count,
  offline: count,
  connectorStatus: z.record(z.string(), count),
  totalConnectors: count,
  activeSessions: count,
  energyTodayWh: z.number(),
  powerW: z.number(),
  byProtocol: z.record(z.string(), count),
}) satisfies z.ZodType<ChargingKpis>;

/** Stations per tile (Charging, Faulted, Unavailable, Offline): the rows each tile's filter shows. */
export const ZStationTileCounts = z.object(Object.fromEntries(STATION_TILES.map((t) => [t.id, count])) as Record<StationTileId, typeof count>);

/** The fleet's figures with the tiles' counts. */
export const ZFleetFigures = ZChargingKpis.extend({ stationTiles: ZStationTileCounts });

export const ZGetKpisResponseSchema = ZFleetFigures.extend({
  /** The link to the CSMS as the health bar shows it; null when the connector is off. */
  link: ZUpstreamStatus.nullable(),
  /** Whether the figures come from a snapshot at all. */
  synced: z.boolean(),
});
