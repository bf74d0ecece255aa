import "server-only";
import type { Db } from "../db";
import { AppError } from "../errors";

/**
 * Lifts every sign-in throttle on one account, from every address, at once: for a user
 * who shares an address with whoever kept guessing, or who cannot wait. The per-address
 * counters stay: they belong to the address, not to this account.
 */
export const unlockSignIn = async (db: Db, { userId }: { userId: string }) => {
  const user = await db.user.findUnique({ where: { id: userId }, select: { email: true } });
  if (!user) throw new AppError("NOT_FOUND", "No such user.");
  const { count } = await db.signInThrottle.deleteMany({ where: { email: user.email.toLowerCase() } });
  return { userId, cleared: count };
};
