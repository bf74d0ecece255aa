import type { Command } from "@prisma/client";
import { Feed } from "../live/feed";

/** What the browser sees of a command. */
export type CommandView = {
  id: string;
  idempotencyKey: string;
  actorId: string;
  actorEmail: string;
  domain: string;
  target: string;
  action: string;
  payload: unknown;
  status: CommandStatus;
  result: unknown;
  error: string | null;
  traceId: string;
  createdAt: Date;
  sentAt: Date | null;
  completedAt: Date | null;
};

export const COMMAND_STATUSES = ["pending", "sent", "accepted", "rejected", "failed", "timed_out"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const isFinal = (s: CommandStatus) => s !== "pending" && s !== "sent";

export const toCommandView = (c: Command): CommandView => ({
  id: c.id,
  idempotencyKey: c.idempotencyKey,
  actorId: c.actorId,
  actorEmail: c.actorEmail,
  domain: c.domain,
  target: c.target,
  action: c.action,
  payload: c.payload,
  status: c.status as CommandStatus,
  result: c.result,
  error: c.error,
  traceId: c.traceId,
  createdAt: c.createdAt,
  sentAt: c.sentAt,
  completedAt: c.completedAt,
});

type Snapshot = () => Promise<CommandView[]>;

const g = globalThis as unknown as { __switchyardCommandFeed?: Feed<CommandView>; __switchyardCommandSnapshot?: Snapshot };

/** Live command status changes; the snapshot is the most recent commands. */
export const commandFeed = () =>
  (g.__switchyardCommandFeed ??= new Feed<CommandView>({
    name: "commands",
    keyOf: (c) => c.id,
    snapshot: () => (g.__switchyardCommandSnapshot ? g.__switchyardCommandSnapshot() : []),
  }));

export const setCommandSnapshot = (snapshot: Snapshot) => {
  g.__switchyardCommandSnapshot = snapshot;
};
