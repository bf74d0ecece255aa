import "server-only";
import { isValidStationId } from "../../../../contracts/csms/mqtt";
import { exportMessagesCsv } from "../../../charging/export-messages-csv";
import { currentStore } from "../../../charging/get-kpis";
import { listStations } from "../../../charging/list-stations";
import { parseStationSort } from "../../../../contracts/console/station-sort";
import type { CsmsClient } from "../../../connectors/csms";
import { requireConnector } from "../../../connectors/kit/registry";
import { AppError, viaUpstream } from "../../../errors";
import { procedure, router } from "../../init";
import { liveProcedure } from "../../live-procedure";
import {
  ZExportMessagesRequestSchema,
  ZExportMessagesResponseSchema,
  ZGetStationRequestSchema,
  ZGetStationResponseSchema,
  ZListStationsRequestSchema,
  ZListStationsResponseSchema,
  ZListMessagesRequestSchema,
  ZListMessagesResponseSchema,
  ZOnMeterRequestSchema,
  ZOnStationsChangeRequestSchema,
} from "./stations.types";

/** Asks the manager about one station; a malformed or unknown id is NOT_FOUND either way. */
const aboutStation = <T>(stationId: string, call: (client: CsmsClient) => Promise<T>) => {
  const { client } = requireConnector("charging");
  if (!isValidStationId(stationId)) throw new AppError("NOT_FOUND", `Station ${stationId.slice(0, 60)} does not exist.`);
  return viaUpstream(call(client), `Station ${stationId}`);
};

export const stationsRouter = router({
  /**
   * Stations live by id: a snapshot, then coalesced changes — one (`stationId`, the station
   * page) or the rows a table window shows (`stationIds`).
   */
  onChange: liveProcedure("charging.read", () => currentStore().stations.feed, {
    input: ZOnStationsChangeRequestSchema,
    filter: ({ input }) => {
      const id = input.stationId;
      if (id) return (s) => s.id === id;
      const ids = new Set(input.stationIds);
      return (s) => ids.has(s.id);
    },
  }),

  /**
   * One window of the stations table from the live view (filtered, sorted, `limit` rows
   * from `offset`) with the match count and the fleet's figures; the browser asks for the
   * window it shows and watches those stations with `onChange({ stationIds })`.
   */
  list: procedure("charging.read")
    .input(ZListStationsRequestSchema)
    .output(ZListStationsResponseSchema)
    .query(({ input: { sort, offset, limit, ...filter } }) => listStations({ filter, sort: parseStationSort(sort), offset, limit })),

  /** The latest meter reading per connector of one station, live (for the station page's charts). */
  onMeter: liveProcedure("charging.read", () => currentStore().meters.feed, {
    input: ZOnMeterRequestSchema,
    filter: ({ input }) => (m) => m.stationId === input.stationId,
  }),

  get: procedure("charging.read")
    .input(ZGetStationRequestSchema)
    .output(ZGetStationResponseSchema)
    .query(({ input }) => aboutStation(input.stationId, (c) => c.getStation(input.stationId))),

  messages: procedure("charging.read")
    .input(ZListMessagesRequestSchema)
    .output(ZListMessagesResponseSchema)
    .query(({ input }) => aboutStation(input.stationId, (c) => c.messages(input.stationId, { cursor: input.cursor, limit: input.limit }))),

  /** The message log (newest first, up to `limit` rows) as CSV text, for the browser to download. */
  messagesCsv: procedure("charging.read")
    .input(ZExportMessagesRequestSchema)
    .output(ZExportMessagesResponseSchema)
    .query(({ input }) => aboutStation(input.stationId, (c) => exportMessagesCsv(c, input.stationId, input.limit))),
});
