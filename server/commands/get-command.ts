import "server-only";
import { z } from "zod";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { SessionUser } from "../trpc/init";
import { toCommandView } from "./command-feed";

/** Traders see only their own commands; everyone else with commands.read sees all. */
export const ownCommandsOnly = (user: SessionUser) => (user.role === "trader" ? user.id : undefined);

/** One command; NOT_FOUND for an unknown or malformed id, and for someone else's when only one's own may be seen. */
export const getCommand = async (db: Db, { id, user }: { id: string; user: SessionUser }) => {
  const own = ownCommandsOnly(user);
  const row = z.uuid().safeParse(id).success ? await db.command.findUnique({ where: { id } }) : null;
  if (!row || (own && row.actorId !== own)) throw new AppError("NOT_FOUND", "No such command.");
  return toCommandView(row);
};
