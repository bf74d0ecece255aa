import "server-only";
import { z } from "zod";
import { ZLiveInput } from "../../live-procedure";

export const ZOnSettlementsRequestSchema = ZLiveInput.optional();
export const ZExportSettlementsResponseSchema = z.object({ csv: z.string(), rows: z.number().int().min(0), truncated: z.boolean(), filename: z.string() });
