import "server-only";
import { z } from "zod";

/** Input of every live subscription; tRPC fills `lastEventId` when a browser reconnects. */
export const ZLiveInput = z.object({ lastEventId: z.string().max(100).nullish() }).optional();
