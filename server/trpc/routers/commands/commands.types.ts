import "server-only";
import { z } from "zod";
import { COMMAND_STATUSES, type CommandView } from "../../../commands/command-feed";
import { ZLookupId, zLimit } from "../common.types";

/** A command as every page sees it (server/commands/command-feed.ts `toCommandView`). */
export const ZCommandView = z.object({
  id: z.string(),
  idempotencyKey: z.string(),
  actorId: z.string(),
  actorEmail: z.string(),
  domain: z.string(),
  target: z.string(),
  action: z.string(),
  payload: z.unknown(),
  status: z.enum(COMMAND_STATUSES),
  result: z.unknown(),
  error: z.string().nullable(),
  traceId: z.string(),
  createdAt: z.date(),
  sentAt: z.date().nullable(),
  completedAt: z.date().nullable(),
}) satisfies z.ZodType<CommandView>;

/** What every mutation that submits one command answers: the command (sent), or the earlier one for a repeated key. */
export const ZSubmitCommandResponseSchema = z.object({ command: ZCommandView, duplicate: z.boolean() });

export const ZListCommandsRequestSchema = z.object({
  domain: z.string().max(40).optional(),
  status: z.enum(COMMAND_STATUSES).optional(),
  /** Only the commands that did not go through: rejected, failed, timed out or offline. */
  problems: z.boolean().optional(),
  target: z.string().max(200).optional(),
  cursor: z.uuid().nullish(),
  limit: zLimit(200),
});
export const ZListCommandsResponseSchema = z.object({ items: z.array(ZCommandView), nextCursor: z.string().nullable() });

export const ZGetCommandRequestSchema = z.object({ id: ZLookupId });
export const ZGetCommandResponseSchema = ZCommandView;
