import "server-only";
import { AppError } from "../errors";
import type { MonitoringScope } from "../connectors/monitoring";
import type { SessionUser } from "../trpc/init";

/**
 * Regional residency in the console: a user sees only the monitoring regions on their
 * account (`user.regions`, set by an admin). Every upstream call is made in the user's scope
 * (the service refuses other regions itself), and the console refuses first: a region the
 * user may not see is answered exactly like one that does not exist, so ids from another
 * region reveal nothing.
 */
export const scopeOf = (user: Pick<SessionUser, "regions" | "email">): MonitoringScope => ({ regions: user.regions, actor: user.email });

export const maySee = (user: Pick<SessionUser, "regions">, region: string) => user.regions.includes(region);

/** NOT_FOUND ("<what> does not exist.") unless the user may see `region`. */
export const requireRegion = (user: Pick<SessionUser, "regions">, region: string, what: string) => {
  if (!maySee(user, region)) throw new AppError("NOT_FOUND", `${what} does not exist.`);
};
