import "server-only";
import { z } from "zod";
import type { UpstreamStatus } from "../../../connectors/health";

export const ZUpstreamStatus = z.object({
  id: z.string(),
  label: z.string(),
  state: z.enum(["connected", "reconnecting", "down"]),
  since: z.number(),
  lastMessageAt: z.number().nullable(),
  detail: z.string().nullable(),
  url: z.string().nullable(),
}) satisfies z.ZodType<UpstreamStatus>;

export const ZListHealthResponseSchema = z.array(ZUpstreamStatus);
