import "server-only";
import { hashPassword } from "better-auth/crypto";
import { randomBytes, randomUUID } from "node:crypto";
import type { Role } from "../../contracts/console/permissions";
import { announceSessionChange } from "../auth/session-events";
import type { Db } from "../db";
import { AppError } from "../errors";

export type UserFields = { name: string; role: Role; participantId: string | null; regions: string[] };

const userSelect = {
  id: true,
  name: true,
  email: true,
  role: true,
  participantId: true,
  regions: true,
  disabled: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** A readable one-time password: four groups of four, about 80 bits. */
export const generatePassword = () => {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join("")).join("-");
};

const checkFields = async (db: Db, { role, participantId, regions }: UserFields, knownRegions: string[]) => {
  if (role === "trader" && !participantId) throw new AppError("BAD_REQUEST", "A trader must act for a market participant.", "participantId");
  if (role !== "trader" && participantId) throw new AppError("BAD_REQUEST", "Only traders are bound to a market participant.", "participantId");
  if (participantId && !(await db.participant.findUnique({ where: { id: participantId } }))) {
    throw new AppError("BAD_REQUEST", `Unknown market participant ${participantId}.`, "participantId");
  }
  const unknown = regions.filter((r) => !knownRegions.includes(r));
  if (unknown.length) throw new AppError("BAD_REQUEST", `Unknown region(s): ${unknown.join(", ")}.`, "regions");
};

export const listUsers = async (db: Db, { search, role, cursor, limit }: { search?: string; role?: Role; cursor?: string | null; limit: number }) => {
  const where = {
    ...(search ? { OR: [{ email: { contains: search, mode: "insensitive" as const } }, { name: { contains: search, mode: "insensitive" as const } }] } : {}),
    ...(role ? { role } : {}),
  };
  const rows = await db.user.findMany({
    where: cursor ? { AND: [where, { email: { gt: cursor } }] } : where,
    orderBy: { email: "asc" },
    take: limit + 1,
    select: userSelect,
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.email : null, total: await db.user.count({ where }) };
};

export const createUser = async (
  db: Db,
  { email, password, ...fields }: UserFields & { email: string; password?: string },
  knownRegions: string[],
) => {
  const normalized = email.trim().toLowerCase();
  await checkFields(db, fields, knownRegions);
  if (await db.user.findUnique({ where: { email: normalized } })) {
    throw new AppError("CONFLICT", `A user with ${normalized} already exists.`, "email");
  }
  const initialPassword = password ?? generatePassword();
  const id = randomUUID();
  const user = await db.user.create({
    data: {
      id,
      email: normalized,
      emailVerified: true,
      ...fields,
      accounts: { create: { id: randomUUID(), accountId: id, providerId: "credential", password: await hashPassword(initialPassword) } },
    },
    select: userSelect,
  });
  return { user, generatedPassword: password ? null : initialPassword };
};

/** Refuses changes that would leave the console without an enabled admin. */
const keepAnAdmin = async (db: Db, userId: string, change: { role?: Role; disabled?: boolean }) => {
  const current = await db.user.findUnique({ where: { id: userId } });
  if (!current) throw new AppError("NOT_FOUND", "No such user.");
  const losesAdmin = current.role === "admin" && !current.disabled && ((change.role && change.role !== "admin") || change.disabled);
  if (losesAdmin && (await db.user.count({ where: { role: "admin", disabled: false } })) <= 1) {
    throw new AppError("PRECONDITION_FAILED", "This is the last enabled admin; make someone else admin first.", "role");
  }
  return current;
};

type Access = { role: string; participantId: string | null; regions: string[] };
const sameAccess = (a: Access, b: Access) => a.role === b.role && a.participantId === b.participantId && a.regions.join("\n") === b.regions.join("\n");

export const updateUser = async (db: Db, id: string, fields: UserFields, knownRegions: string[]) => {
  const current = await keepAnAdmin(db, id, { role: fields.role });
  await checkFields(db, fields, knownRegions);
  const user = await db.user.update({ where: { id }, data: fields, select: userSelect });
  // What the user may see changed: their open live streams end now, not at the next request.
  if (!sameAccess(current, fields)) announceSessionChange({ userId: id, reason: "role_changed" });
  return user;
};

export const setUserDisabled = async (db: Db, { id, disabled, actorId }: { id: string; disabled: boolean; actorId: string }) => {
  if (id === actorId && disabled) throw new AppError("PRECONDITION_FAILED", "You cannot disable your own account.");
  await keepAnAdmin(db, id, { disabled });
  const [user] = await db.$transaction([
    db.user.update({ where: { id }, data: { disabled }, select: userSelect }),
    // Disabling signs the user out everywhere at once.
    ...(disabled ? [db.session.deleteMany({ where: { userId: id } })] : []),
  ]);
  if (disabled) announceSessionChange({ userId: id, reason: "disabled" });
  return user;
};

export const resetPassword = async (db: Db, { id, password }: { id: string; password?: string }) => {
  const user = await db.user.findUnique({ where: { id } });
  if (!user) throw new AppError("NOT_FOUND", "No such user.");
  const next = password ?? generatePassword();
  const hash = await hashPassword(next);
  const account = await db.account.findFirst({ where: { userId: id, providerId: "credential" } });
  await db.$transaction([
    account
      ? db.account.update({ where: { id: account.id }, data: { password: hash } })
      : db.account.create({ data: { id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash } }),
    db.session.deleteMany({ where: { userId: id } }),
  ]);
  announceSessionChange({ userId: id, reason: "password_reset" });
  return { generatedPassword: password ? null : next };
};
