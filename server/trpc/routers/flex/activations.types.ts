import "server-only";
import { z } from "zod";
import { zId, zTime } from "../../../../contracts/flex/entities";
import { ZIdempotencyKey } from "../common.types";
import { ZLiveInput } from "../../live-procedure";

/** Activation steps (requested vs delivered, acks, late devices), of one trade or all visible ones. */
export const ZOnStepsRequestSchema = ZLiveInput.extend({ nodeId: zId.optional(), tradeId: z.string().max(200).optional() }).optional();

export const ZSignalRequestSchema = z
  .object({
    idempotencyKey: ZIdempotencyKey,
    nodeId: zId,
    tradeId: z.string().min(1).max(200),
    /** The level asked of the whole trade, 0…its quantity; 0 ends the activation. */
    setpointW: z.number().int("whole watts").min(0, "must not be negative"),
    /** Until when (epoch ms); default: the end of the trade's period. */
    until: zTime.optional(),
  })
  .strict();
