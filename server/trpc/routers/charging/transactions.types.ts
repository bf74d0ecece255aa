import "server-only";
import { z } from "zod";
import { ZTransactionDetail } from "../../../../contracts/csms/api";
import { ZStationId } from "../../../../contracts/csms/commands";
import { ZTransactionsPage } from "../../../connectors/csms/client";
import { ZCursor, ZLookupId, zLimit } from "../common.types";

export const ZListTransactionsRequestSchema = z.object({ stationId: ZStationId.optional(), active: z.boolean().optional(), cursor: ZCursor, limit: zLimit(200) });
export const ZListTransactionsResponseSchema = ZTransactionsPage;

export const ZGetTransactionRequestSchema = z.object({ id: ZLookupId });
/** One transaction with its meter samples (power, energy, SoC over time). */
export const ZGetTransactionResponseSchema = ZTransactionDetail;
