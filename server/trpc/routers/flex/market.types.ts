import "server-only";
import { z } from "zod";
import { zDirection, zId, zNodeRole } from "../../../../contracts/flex/entities";
import { ZLiveInput } from "../../live-procedure";

/** Whom the caller acts for and what the market looks like, for the page's forms and filters. */
export const ZGetContextResponseSchema = z.object({
  /** The participant a trader acts for (from the session); null for everyone else. */
  participantId: z.string().nullable(),
  canTrade: z.boolean(),
  /** Participants the caller may act for: a trader's own, every configured one for an admin. */
  participants: z.array(z.object({ participantId: z.string(), nodeId: z.string() })),
  nodes: z.array(z.object({ nodeId: z.string(), role: zNodeRole.nullable(), gridNodes: z.array(z.string()), periodMs: z.number(), bundleIntervalMs: z.number(), stepMs: z.number(), connected: z.boolean() })),
});

export const ZOnNodeFeedRequestSchema = ZLiveInput.extend({ nodeId: zId.optional() }).optional();
export const ZOnDepthRequestSchema = ZLiveInput.extend({ nodeId: zId.optional(), gridNodeId: zId.optional(), direction: zDirection.optional() }).optional();
