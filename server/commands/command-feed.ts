import "server-only";
import type { Command } from "@prisma/client";
import { Feed } from "../../lib/feed";
import type { CommandStatus, CommandView } from "../../contracts/console/commands";

export { COMMAND_STATUSES, isFinal, type CommandStatus, type CommandView } from "../../contracts/console/commands";

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
