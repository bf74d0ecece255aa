import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import type { Role } from "../../contracts/console/permissions";
import type { Context, SessionUser } from "../trpc/init";

/** A handler context built by hand, as cal.com's handler tests do: no HTTP, real database. */
export const makeContext = (db: PrismaClient, user: SessionUser | null = null, sessionId: string | null = null): Context => ({
  db,
  user,
  sessionId,
  requestId: randomUUID(),
  traceId: randomUUID(),
  ip: "127.0.0.1",
  headers: new Headers(),
});

export const ensureParticipants = async (db: PrismaClient) => {
  for (const p of [
    { id: "tso-1", role: "TSO", name: "TSO Control" },
    { id: "dso-north", role: "DSO", name: "DSO North" },
  ]) {
    await db.participant.upsert({ where: { id: p.id }, create: p, update: {} });
  }
};

/** Inserts a user row for `role` and returns it as a session user. */
export const createTestUser = async (db: PrismaClient, role: Role, overrides: Partial<SessionUser> = {}): Promise<SessionUser> => {
  const id = randomUUID();
  const participantId = role === "trader" ? (overrides.participantId ?? "tso-1") : null;
  if (participantId) await ensureParticipants(db);
  const user = {
    id,
    email: `${role}-${id.slice(0, 8)}@test.local`,
    name: `Test ${role}`,
    role,
    participantId,
    regions: ["eu-north"],
    ...overrides,
  };
  await db.user.create({ data: { ...user, id, emailVerified: true } });
  return { ...user, id };
};
