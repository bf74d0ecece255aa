import type { Prisma, PrismaClient } from "@prisma/client";
import type pino from "pino";
import type { CommandRecord, ManagerCommandResult } from "../../../contracts/csms/api";
import type { CommandAction } from "../../../contracts/csms/commands";
import { createBatcher } from "./batch";
import { rejectionReason } from "./commands";

/**
 * The outcome of every command the console sent with a `commandId`, kept under that id:
 * in memory (answers at once, and makes a repeated POST wait for the first one's outcome
 * instead of sending again), written behind in batches to `csms.command_result`, so that a
 * console that restarted mid-command, or another manager replica, can still ask for it.
 */

export type CommandBody = { action: CommandAction; params: unknown; timeoutMs?: number; commandId?: string };

/** A repeated commandId with another station or action: 409, nothing is sent. */
export class CommandConflictError extends Error {}

type Entry = {
  record: CommandRecord;
  action: CommandAction;
  deadlineAt: Date;
  /** Present in the process that runs the command: the outcome a repeat waits for. */
  outcome?: Promise<ManagerCommandResult | undefined>;
};

type Row = Prisma.CsmsCommandResultGetPayload<object>;

const STALE_DESCRIPTION = "the manager that sent this command stopped before the station's answer arrived";
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const toRecord = (row: Row): CommandRecord => ({
  commandId: row.commandId,
  stationId: row.stationId,
  status: row.status as CommandRecord["status"],
  receivedAt: row.receivedAt.toISOString(),
  completedAt: iso(row.completedAt),
  ...(row.ocppAction ? { ocppAction: row.ocppAction } : {}),
  ...(row.request ? { request: row.request as Record<string, unknown> } : {}),
  ...(row.response ? { response: row.response as Record<string, unknown> } : {}),
  ...(row.errorCode ? { errorCode: row.errorCode } : {}),
  ...(row.errorDescription ? { errorDescription: row.errorDescription } : {}),
  ...(row.status === "rejected" && row.ocppAction ? rejectionReason(row.ocppAction, (row.response ?? undefined) as Record<string, unknown> | undefined) : {}),
  ...(row.status !== "pending" ? { sent: row.status !== "offline" } : {}),
});

/** A pending record whose process is gone reads as timed out once its deadline passed. */
const settled = (entry: Entry, now = Date.now()): CommandRecord =>
  entry.record.status === "pending" && !entry.outcome && now > entry.deadlineAt.getTime()
    ? { ...entry.record, status: "timed_out", errorDescription: STALE_DESCRIPTION, completedAt: entry.deadlineAt.toISOString() }
    : entry.record;

const resultOf = ({ status, ocppAction, request, response, errorCode, errorDescription, reason, reasonDetail, sent }: CommandRecord): ManagerCommandResult => ({
  status: status === "pending" ? "timed_out" : status,
  ...(reason ? { reason } : {}),
  ...(reasonDetail ? { reasonDetail } : {}),
  ...(sent !== undefined ? { sent } : {}),
  ...(ocppAction ? { ocppAction } : {}),
  ...(request ? { request } : {}),
  ...(response ? { response } : {}),
  ...(errorCode ? { errorCode } : {}),
  ...(errorDescription ? { errorDescription } : {}),
});

export type CommandRecordsOptions = {
  db: PrismaClient;
  log: pino.Logger;
  /** How long outcomes are kept (memory and table); at least 24. */
  retentionHours: number;
  /** A pending record of another process is polled this often until it settles. */
  pollMs?: number;
  /** In-memory entries beyond this are dropped oldest first (the table still has them). */
  maxInMemory?: number;
  onBatchError?: (error: Error, rows: number) => void;
};

export const createCommandRecords = ({ db, log, retentionHours, pollMs = 500, maxInMemory = 100_000, onBatchError }: CommandRecordsOptions) => {
  const entries = new Map<string, Entry>();

  const writer = createBatcher<Entry>({
    write: async (batch) => {
      // The same command may be queued twice in one batch (pending, then its outcome): last wins.
      const rows = [...new Map(batch.map((e) => [e.record.commandId, e])).values()];
      const col = <T>(f: (e: Entry) => T) => rows.map(f);
      const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v).replaceAll("\\u0000", "\\ufffd"));
      await db.$executeRawUnsafe(
        `INSERT INTO "csms"."command_result" ("commandId", "stationId", "action", "status", "ocppAction", "request", "response", "errorCode", "errorDescription", "receivedAt", "completedAt", "deadlineAt")
         SELECT id, station, action, status, ocpp, req::jsonb, res::jsonb, code, descr, received, completed, deadline
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamp(3)[], $11::timestamp(3)[], $12::timestamp(3)[])
           AS x(id, station, action, status, ocpp, req, res, code, descr, received, completed, deadline)
         ON CONFLICT ("commandId") DO UPDATE SET
           "status" = EXCLUDED."status", "ocppAction" = EXCLUDED."ocppAction", "request" = EXCLUDED."request", "response" = EXCLUDED."response",
           "errorCode" = EXCLUDED."errorCode", "errorDescription" = EXCLUDED."errorDescription", "completedAt" = EXCLUDED."completedAt"
         WHERE "command_result"."status" = 'pending'`,
        col((e) => e.record.commandId),
        col((e) => e.record.stationId),
        col((e) => e.action),
        col((e) => e.record.status),
        col((e) => e.record.ocppAction ?? null),
        col((e) => json(e.record.request)),
        col((e) => json(e.record.response)),
        col((e) => e.record.errorCode ?? null),
        col((e) => e.record.errorDescription ?? null),
        col((e) => e.record.receivedAt),
        col((e) => e.record.completedAt),
        col((e) => e.deadlineAt.toISOString()),
      );
    },
    onError: (error, rows) => {
      onBatchError?.(error, rows);
      log.warn({ err: error.message, rows }, "command result batch failed");
    },
  });

  const load = async (commandId: string): Promise<Entry | undefined> => {
    const row = await db.csmsCommandResult.findUnique({ where: { commandId } });
    return row ? { record: toRecord(row), action: row.action as CommandAction, deadlineAt: row.deadlineAt } : undefined;
  };

  /** Waits for a record another process is still running, until it settles or its deadline passes. */
  const settle = async (entry: Entry): Promise<CommandRecord> => {
    let current = entry;
    while (current.record.status === "pending" && Date.now() <= current.deadlineAt.getTime()) {
      await new Promise((r) => setTimeout(r, pollMs));
      current = (await load(current.record.commandId)) ?? current;
    }
    return settled(current);
  };

  const repeat = async (entry: Entry, stationId: string, action: CommandAction) => {
    if (entry.record.stationId !== stationId || entry.action !== action) {
      throw new CommandConflictError(`command ${entry.record.commandId} was already used for ${entry.action} on ${entry.record.stationId}`);
    }
    if (entry.outcome) return entry.outcome;
    return resultOf(await settle(entry));
  };

  const prune = () => {
    const cutoff = Date.now() - retentionHours * 3_600_000;
    for (const [id, e] of entries) {
      const old = Date.parse(e.record.receivedAt) < cutoff || entries.size > maxInMemory;
      if (!old) break; // insertion order is receipt order
      if (e.record.status !== "pending") entries.delete(id);
    }
  };

  const retention = async () => {
    prune();
    const cutoff = new Date(Date.now() - retentionHours * 3_600_000);
    const { count } = await db.csmsCommandResult.deleteMany({ where: { receivedAt: { lt: cutoff } } });
    if (count) log.info({ count, cutoff: cutoff.toISOString() }, "command result retention");
  };
  const retentionTimer = setInterval(() => void retention().catch((error: Error) => log.warn({ err: error.message }, "command result retention failed")), 3_600_000);
  retentionTimer.unref();

  return {
    /**
     * Runs a command once per commandId. `run` is the manager's command path; it calls
     * `accepted` once the station is known and the parameters are valid (from then on the
     * record exists), and resolves undefined for an unknown station (nothing is kept).
     */
    submit: async (
      stationId: string,
      body: CommandBody,
      run: (accepted: () => void) => Promise<ManagerCommandResult | undefined>,
      { timeoutMs }: { timeoutMs: number },
    ): Promise<ManagerCommandResult | undefined> => {
      const { commandId } = body;
      if (!commandId) return run(() => {});
      const known = entries.get(commandId);
      if (known) return repeat(known, stationId, body.action);
      const receivedAt = new Date();
      const entry: Entry = {
        record: { commandId, stationId, status: "pending", receivedAt: receivedAt.toISOString(), completedAt: null },
        action: body.action,
        // Queued behind other commands it may wait a few timeouts; the deadline only matters
        // once this process is gone, so it errs on the long side.
        deadlineAt: new Date(receivedAt.getTime() + 2 * timeoutMs + 5000),
      };
      // Claimed synchronously, so a repeat arriving meanwhile waits for this one.
      entries.set(commandId, entry);
      entry.outcome = (async () => {
        const stored = await load(commandId);
        if (stored) {
          entries.set(commandId, stored);
          return repeat(stored, stationId, body.action);
        }
        const result = await run(() => writer.push({ ...entry, record: { ...entry.record } }));
        if (!result) {
          entries.delete(commandId);
          return undefined;
        }
        entry.record = { ...entry.record, ...result, completedAt: new Date().toISOString() };
        writer.push(entry);
        prune();
        return result;
      })();
      try {
        return await entry.outcome;
      } catch (error) {
        // Invalid parameters: nothing was sent and no record exists.
        if (entries.get(commandId) === entry) entries.delete(commandId);
        throw error;
      }
    },
    /** The record, or undefined for an unknown id. */
    get: async (commandId: string): Promise<CommandRecord | undefined> => {
      const entry = entries.get(commandId) ?? (await load(commandId));
      return entry ? settled(entry) : undefined;
    },
    flush: () => writer.flush(),
    close: async () => {
      clearInterval(retentionTimer);
      await writer.close();
    },
  };
};
export type CommandRecords = ReturnType<typeof createCommandRecords>;
