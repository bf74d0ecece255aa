import "server-only";
import { z } from "zod";
import { ZStationDetail, ZStationView } from "../../../../contracts/csms/api";
import { ZStationId } from "../../../../contracts/csms/commands";
import { ZMessagesPage } from "../../../connectors/csms/client";
import { ZLiveInput } from "../../live-procedure";
import { ZCursor, ZLookupId, zLimit } from "../common.types";
import { ZStationFilter } from "./commands.types";
import { ZFleetFigures } from "./kpis.types";

/** Stations one live subscription may watch by id (a table window and its overscan). */
export const MAX_WATCHED = 300;

/**
 * One station (the station page) or the few a table window shows. Never the whole fleet: a
 * browser reads the fleet a window at a time (`list`), so 50,000 stations never travel at once.
 */
export const ZOnStationsChangeRequestSchema = ZLiveInput.extend({
  stationId: ZStationId.optional(),
  stationIds: z.array(ZStationId).max(MAX_WATCHED, `at most ${MAX_WATCHED} stations at once`).optional(),
}).refine((v) => v.stationId !== undefined || v.stationIds !== undefined, { message: "give stationId or stationIds", path: ["stationIds"] });

/** One window of the stations table: filter, sort (a column id, "-" for descending), offset and size. */
export const ZListStationsRequestSchema = ZStationFilter.extend({
  sort: z.string().max(20).optional(),
  offset: z.number().int().min(0).max(10_000_000).default(0),
  limit: zLimit(500, 100),
});
export const ZListStationsResponseSchema = z.object({
  items: z.array(ZStationView),
  offset: z.number().int().min(0),
  /** How many stations match the filter. */
  total: z.number().int().min(0),
  figures: ZFleetFigures,
});
/** The latest readings of one station's connectors. */
export const ZOnMeterRequestSchema = ZLiveInput.extend({ stationId: ZStationId });

export const ZGetStationRequestSchema = z.object({ stationId: ZLookupId });
export const ZGetStationResponseSchema = ZStationDetail;

export const ZListMessagesRequestSchema = z.object({ stationId: ZLookupId, cursor: ZCursor, limit: zLimit(500) });
export const ZListMessagesResponseSchema = ZMessagesPage;

export const ZExportMessagesRequestSchema = z.object({ stationId: ZLookupId, limit: zLimit(50_000, 10_000) });
/** CSV text, newest first, for the browser to download. */
export const ZExportMessagesResponseSchema = z.string();
