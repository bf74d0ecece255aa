import "server-only";
import type { Prisma } from "@prisma/client";
import { writeAudit } from "../audit/write-audit";
import type { Db } from "../db";
import { logger } from "../../lib/log";
import { commandFeed, toCommandView, type CommandView } from "./command-feed";

export type CommandActor = { id: string; email: string; role?: string | null };

/** What an upstream said about a command it received: its outcome, with the upstream's reason when not accepted. */
export type CommandReply = { status: "accepted" | "rejected" | "failed" | "timed_out" | "offline"; result?: unknown; error?: string };

export class CommandTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s`);
  }
}

export type SubmitCommandOptions = {
  db: Db;
  actor: CommandActor;
  traceId: string;
  idempotencyKey: string;
  domain: string;
  target: string;
  action: string;
  payload: Record<string, unknown>;
  /** Delivers the command upstream and resolves with its answer; throw to fail it. */
  send: (command: CommandView, signal: AbortSignal) => Promise<CommandReply>;
  timeoutMs?: number;
  /** Resolve only when the command has an outcome (default: once it is sent). */
  waitForOutcome?: boolean;
};

const publish = (c: Parameters<typeof toCommandView>[0]) => {
  const view = toCommandView(c);
  commandFeed().upsert(view);
  return view;
};

/**
 * The one path every control action takes: persist (pending) → send → outcome
 * (accepted | rejected | failed | timed_out | offline) → audit, with each step streamed live.
 * The same idempotency key from the same actor returns the first command, never a resend.
 */
export const submitCommand = async ({
  db,
  actor,
  traceId,
  idempotencyKey,
  domain,
  target,
  action,
  payload,
  send,
  timeoutMs = 10_000,
  waitForOutcome = false,
}: SubmitCommandOptions): Promise<{ command: CommandView; duplicate: boolean }> => {
  const existing = await db.command.findUnique({ where: { actorId_idempotencyKey: { actorId: actor.id, idempotencyKey } } });
  if (existing) return { command: toCommandView(existing), duplicate: true };

  let created;
  try {
    created = await db.command.create({
      data: { idempotencyKey, actorId: actor.id, actorEmail: actor.email, domain, target, action, payload: payload as Prisma.InputJsonValue, traceId },
    });
  } catch (error) {
    // Two identical requests raced; the loser answers with the winner's command.
    const winner = await db.command.findUnique({ where: { actorId_idempotencyKey: { actorId: actor.id, idempotencyKey } } });
    if (winner) return { command: toCommandView(winner), duplicate: true };
    throw error;
  }
  publish(created);

  const sent = await db.command.update({ where: { id: created.id }, data: { status: "sent", sentAt: new Date() } });
  const sentView = publish(sent);

  const outcome = runToOutcome({ db, actor, traceId, view: sentView, send, timeoutMs });
  if (waitForOutcome) return { command: await outcome, duplicate: false };
  outcome.catch((error) => logger().error({ err: error, commandId: created.id }, "command outcome could not be stored"));
  return { command: sentView, duplicate: false };
};

const runToOutcome = async ({
  db,
  actor,
  traceId,
  view,
  send,
  timeoutMs,
}: {
  db: Db;
  actor: CommandActor;
  traceId: string;
  view: CommandView;
  send: SubmitCommandOptions["send"];
  timeoutMs: number;
}): Promise<CommandView> => {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Settle the race as a timeout before telling the sender to give up.
      reject(new CommandTimeoutError(timeoutMs));
      controller.abort();
    }, timeoutMs);
  });
  let reply: CommandReply;
  inFlight().add(view.id);
  try {
    reply = await Promise.race([send(view, controller.signal), timeout]);
  } catch (error) {
    reply = { status: error instanceof CommandTimeoutError ? "timed_out" : "failed", error: (error as Error).message };
  } finally {
    clearTimeout(timer);
    inFlight().delete(view.id);
  }
  return (await closeCommand(db, { command: view, reply, actor, traceId })) ?? toCommandView(await db.command.findUniqueOrThrow({ where: { id: view.id } }));
};

const g = globalThis as unknown as { __switchyardCommandsInFlight?: Set<string> };
const inFlight = () => (g.__switchyardCommandsInFlight ??= new Set());

/** Whether this process is still waiting for the command's outcome (recovery leaves those alone). */
export const isInFlight = (commandId: string) => inFlight().has(commandId);

/**
 * Records a command's outcome, publishes it and audits it — once: only a command still
 * pending or sent is closed, so a live answer and a recovery racing for the same command
 * leave one outcome and one audit entry. Returns null when it was already closed.
 */
export const closeCommand = async (
  db: Db,
  { command, reply, actor, traceId }: { command: Pick<CommandView, "id" | "domain" | "action" | "target">; reply: CommandReply; actor: CommandActor; traceId: string },
): Promise<CommandView | null> => {
  const error = reply.status === "accepted" ? null : (reply.error ?? reply.status);
  const { count } = await db.command.updateMany({
    where: { id: command.id, status: { in: ["pending", "sent"] } },
    data: { status: reply.status, result: (reply.result ?? null) as Prisma.InputJsonValue, error, completedAt: new Date() },
  });
  if (count === 0) return null;
  const doneView = publish(await db.command.findUniqueOrThrow({ where: { id: command.id } }));
  await writeAudit(db, {
    actor,
    action: `command.${command.domain}.${command.action}.outcome`,
    target: command.target,
    input: { commandId: command.id, status: reply.status },
    outcome: reply.status === "accepted" ? "ok" : "error",
    error,
    traceId,
  });
  return doneView;
};
