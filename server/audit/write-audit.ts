import "server-only";
import type { Prisma } from "@prisma/client";
import type { Db } from "../db";
import { logger } from "../../lib/log";

export type AuditOutcome = "ok" | "error" | "denied";

export type AuditInput = {
  actor?: { id?: string | null; email?: string | null; role?: string | null } | null;
  action: string;
  target?: string | null;
  input?: unknown;
  outcome: AuditOutcome;
  error?: string | null;
  traceId: string;
  ip?: string | null;
};

const SECRET_KEYS = /pass(word)?|secret|token|api[-_]?key/i;
const MAX_STRING = 500;

/** What the audit keeps of an input: secrets masked, long strings cut, depth bounded. */
export const summarizeInput = (value: unknown, depth = 0): unknown => {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (depth > 4) return "[…]";
  if (Array.isArray(value)) {
    const head = value.slice(0, 20).map((v) => summarizeInput(v, depth + 1));
    return value.length > 20 ? [...head, `… ${value.length - 20} more`] : head;
  }
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEYS.test(k) ? "[redacted]" : summarizeInput(v, depth + 1)]),
    );
  }
  return String(value);
};

/** Appends one entry. Audit failures are logged loudly but never undo the action itself. */
export const writeAudit = async (db: Db, entry: AuditInput) => {
  try {
    await db.auditEntry.create({
      data: {
        actorId: entry.actor?.id ?? null,
        actorEmail: entry.actor?.email ?? null,
        actorRole: entry.actor?.role ?? null,
        action: entry.action,
        target: entry.target ?? null,
        input: (entry.input === undefined ? undefined : summarizeInput(entry.input)) as Prisma.InputJsonValue | undefined,
        outcome: entry.outcome,
        error: entry.error ?? null,
        traceId: entry.traceId,
        ip: entry.ip ?? null,
      },
    });
  } catch (error) {
    logger().error({ err: error, audit: { action: entry.action, traceId: entry.traceId } }, "audit write failed");
  }
};
