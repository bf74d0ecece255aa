import "server-only";
import { z } from "zod";
import { TOKEN_STATUSES, ZTokenView } from "../../../../contracts/csms/api";
import { ZTokensPage } from "../../../connectors/csms/client";
import { ZCursor, zLimit } from "../common.types";

const ZIdTag = z.string().trim().min(1, "required").max(36);
const ZTokenStatus = z.enum(TOKEN_STATUSES);
const ZNote = z.string().max(200).nullish();

export const ZListTokensRequestSchema = z.object({ q: z.string().max(36).optional(), cursor: ZCursor, limit: zLimit(200) });
export const ZListTokensResponseSchema = ZTokensPage;

export const ZCreateTokenRequestSchema = z.object({ idTag: ZIdTag, status: ZTokenStatus.default("Accepted"), expiresAt: z.date().nullish(), note: ZNote });
export const ZCreateTokenResponseSchema = ZTokenView;

export const ZUpdateTokenRequestSchema = z.object({ idTag: ZIdTag, status: ZTokenStatus.optional(), expiresAt: z.date().nullish(), note: ZNote });
export const ZUpdateTokenResponseSchema = ZTokenView;

export const ZDeleteTokenRequestSchema = z.object({ idTag: ZIdTag });
export const ZDeleteTokenResponseSchema = z.object({ idTag: z.string() });
