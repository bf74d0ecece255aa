import "server-only";
import { z } from "zod";

export const ZListParticipantsResponseSchema = z.array(z.object({ id: z.string(), role: z.string(), name: z.string() }));
export const ZListRegionsResponseSchema = z.array(z.string());
