import "server-only";
import type { Prisma } from "@prisma/client";
import { z } from "zod";

/** Pieces of request and response schemas that several routers share. */
export const ZCursor = z.string().max(200).nullish();
export const ZIdempotencyKey = z.string().min(8).max(100);
export const zLimit = (max: number, fallback = 50) => z.number().int().min(1).max(max).default(fallback);

/**
 * An id as a page's URL carries it, for a lookup: anything up to a sane length is accepted,
 * so a malformed id is answered like an unknown one (NOT_FOUND), not as a form error.
 */
export const ZLookupId = z.string().max(500);

/** JSON the console stored itself (audit inputs, command payloads). */
export const ZStoredJson = z.custom<Prisma.JsonValue>((value) => value !== undefined);
