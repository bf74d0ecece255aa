import "server-only";
import type { Prisma } from "@prisma/client";
import { writeAudit } from "../audit/write-audit";
import type { Db } from "../db";
import { logger } from "../../lib/log";
import { commandFeed, toCommandView, type CommandView } from "./command-feed";

export type CommandActor = { id: string; email: string; role: string };

/** What an upstream said about a command it received. */
export type CommandReply = { status: "accepted" | "rejected"; result?: unknown; error?: string };

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
 * (accepted | rejected | failed | timed_out) → audit, with each step streamed live.
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
  let data: Prisma.CommandUpdateInput;
  try {
    const reply = await Promise.race([send(view, controller.signal), timeout]);
    data = {
      status: reply.status,
      result: (reply.result ?? null) as Prisma.InputJsonValue,
      error: reply.status === "rejected" ? (reply.error ?? "rejected") : null,
    };
  } catch (error) {
    const timedOut = error instanceof CommandTimeoutError;
    data = { status: timedOut ? "timed_out" : "failed", error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
  const done = await db.command.update({ where: { id: view.id }, data: { ...data, completedAt: new Date() } });
  const doneView = publish(done);
  await writeAudit(db, {
    actor,
    action: `command.${view.domain}.${view.action}.outcome`,
    target: view.target,
    input: { commandId: view.id, status: done.status },
    outcome: done.status === "accepted" ? "ok" : "error",
    error: done.error,
    traceId,
  });
  return doneView;
};
