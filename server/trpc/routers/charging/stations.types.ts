import "server-only";
import { z } from "zod";
import { ZStationDetail } from "../../../../contracts/csms/api";
import { ZStationId } from "../../../../contracts/csms/commands";
import { ZMessagesPage } from "../../../connectors/csms/client";
import { ZLiveInput } from "../../live-procedure";
import { ZCursor, ZLookupId, zLimit } from "../common.types";

/** Every station, or just one (the station page). */
export const ZOnStationsChangeRequestSchema = ZLiveInput.extend({ stationId: ZStationId.optional() }).optional();
/** The latest readings of one station's connectors. */
export const ZOnMeterRequestSchema = ZLiveInput.extend({ stationId: ZStationId });

export const ZGetStationRequestSchema = z.object({ stationId: ZLookupId });
export const ZGetStationResponseSchema = ZStationDetail;

export const ZListMessagesRequestSchema = z.object({ stationId: ZLookupId, cursor: ZCursor, limit: zLimit(500) });
export const ZListMessagesResponseSchema = ZMessagesPage;

export const ZExportMessagesRequestSchema = z.object({ stationId: ZLookupId, limit: zLimit(50_000, 10_000) });
/** CSV text, newest first, for the browser to download. */
export const ZExportMessagesResponseSchema = z.string();
