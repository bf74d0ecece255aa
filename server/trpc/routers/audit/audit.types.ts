import "server-only";
import { z } from "zod";
import { zLimit, ZStoredJson } from "../common.types";

export const ZAuditFilter = z
  .object({
    actor: z.string().trim().max(200).optional(),
    action: z.string().trim().max(200).optional(),
    outcome: z.enum(["ok", "error", "denied"]).optional(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: "'from' must be before 'to'", path: ["from"] });

export const ZAuditEntryView = z.object({
  id: z.string(),
  at: z.date(),
  actorId: z.string().nullable(),
  actorEmail: z.string().nullable(),
  actorRole: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  input: ZStoredJson.nullable(),
  outcome: z.string(),
  error: z.string().nullable(),
  traceId: z.string(),
  ip: z.string().nullable(),
});

export const ZListAuditRequestSchema = z.object({ filter: ZAuditFilter.default({}), cursor: z.string().regex(/^\d+$/).nullish(), limit: zLimit(200) });
export const ZListAuditResponseSchema = z.object({ items: z.array(ZAuditEntryView), nextCursor: z.string().nullable(), total: z.number().int().min(0) });

export const ZExportAuditRequestSchema = z.object({ filter: ZAuditFilter.default({}) });
export const ZExportAuditResponseSchema = z.object({ csv: z.string(), rows: z.number().int().min(0), truncated: z.boolean(), filename: z.string() });
