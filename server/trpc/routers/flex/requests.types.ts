import "server-only";
import { z } from "zod";
import { createRequestSchema, requestWithRevisionsSchema, reviseRequestSchema } from "../../../../contracts/flex/api";
import { zId } from "../../../../contracts/flex/entities";
import { ZIdempotencyKey, ZLookupId } from "../common.types";
import { ZLiveInput } from "../../live-procedure";

export { ZSubmitCommandResponseSchema as ZFlexCommandResponseSchema } from "../commands/commands.types";

/** Every request the caller may see (traders: their own participant's), live. */
export const ZOnRequestsChangeRequestSchema = ZLiveInput.extend({ nodeId: zId.optional() }).optional();

/** One request with every revision, from its node. */
export const ZGetRequestRequestSchema = z.object({ nodeId: ZLookupId, requestId: ZLookupId });
export const ZGetRequestResponseSchema = requestWithRevisionsSchema;

/** The node's own request body, less what the console fills in: the buyer (from the session) and the id. Admins name the participant they act for. */
export const ZCreateRequestRequestSchema = createRequestSchema
  .omit({ id: true, buyerId: true, marketId: true })
  .extend({ idempotencyKey: ZIdempotencyKey, participantId: zId.optional() })
  .strict();

/** The node's revision body (any field, plus the `revision` it is based on — CONFLICT when the request has moved on) and which request. */
export const ZReviseRequestRequestSchema = z
  .object({ ...reviseRequestSchema.shape, idempotencyKey: ZIdempotencyKey, nodeId: zId, requestId: zId })
  .strict()
  .refine((r) => [r.quantityW, r.minQuantityW, r.maxUnitPrice, r.periodFrom, r.periodTo, r.expiresAt].some((v) => v !== undefined), { message: "Change at least one field.", path: ["quantityW"] });

export const ZCancelRequestRequestSchema = z.object({ idempotencyKey: ZIdempotencyKey, nodeId: zId, requestId: zId }).strict();
