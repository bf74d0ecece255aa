import "server-only";
import type { Prisma } from "@prisma/client";
import type { Db } from "../db";
import { PROBLEM_STATUSES } from "../../contracts/console/commands";
import { toCommandView, type CommandStatus } from "./command-feed";

/** `problems`: only those that did not go through (PROBLEM_STATUSES); `status` narrows further. */
export type CommandFilter = { domain?: string; status?: CommandStatus; problems?: boolean; target?: string; actorId?: string };

export const commandWhere = ({ domain, status, problems, target, actorId }: CommandFilter): Prisma.CommandWhereInput => ({
  ...(domain ? { domain } : {}),
  ...(problems ? { AND: [{ status: { in: [...PROBLEM_STATUSES] } }] } : {}),
  ...(status ? { status } : {}),
  ...(target ? { target: { contains: target, mode: "insensitive" } } : {}),
  ...(actorId ? { actorId } : {}),
});

/** Newest first, keyset-paged on (createdAt, id). */
export const listCommands = async (db: Db, { filter, cursor, limit }: { filter: CommandFilter; cursor?: string | null; limit: number }) => {
  const where = commandWhere(filter);
  const after = cursor ? await db.command.findUnique({ where: { id: cursor }, select: { createdAt: true, id: true } }) : null;
  const rows = await db.command.findMany({
    where: after
      ? { AND: [where, { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }] }
      : where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const items = rows.slice(0, limit).map(toCommandView);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
};
