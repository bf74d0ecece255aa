import "server-only";
import { z } from "zod";
import { DOMAINS } from "../../../overview/get-overview";
import { ZUpstreamStatus } from "../health/health.types";

type Domain = (typeof DOMAINS)[number]["id"];

export const ZGetOverviewResponseSchema = z.object({
  domains: z.array(
    z.object({
      id: z.enum(DOMAINS.map((d) => d.id) as [Domain, ...Domain[]]),
      label: z.string(),
      description: z.string(),
      connected: z.boolean(),
    }),
  ),
  links: z.array(ZUpstreamStatus),
  commands24h: z.number().int().min(0),
  failed24h: z.number().int().min(0),
});
