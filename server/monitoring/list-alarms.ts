import "server-only";
import type { AlarmSeverity, AlarmView } from "../../contracts/monitoring";
import { requireConnector } from "../connectors/kit/registry";
import { UpstreamHttpError } from "../connectors/kit/upstream-errors";
import { AppError, fromUpstream } from "../errors";
import type { SessionUser } from "../trpc/init";
import { maySee, scopeOf } from "./regions";

export type ListAlarmsInput = {
  region?: string;
  status: "active" | "cleared" | "all";
  site?: string;
  device?: string;
  severity?: AlarmSeverity;
  limit: number;
  cursor?: string | null;
};

/** Keyset position (newest first): the last alarm shown. */
type Position = { at: string; id: string };

const encode = (p: Position) => Buffer.from(JSON.stringify(p)).toString("base64url");
const decode = (raw: string): Position => {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (v && typeof v === "object" && typeof (v as Position).at === "string" && typeof (v as Position).id === "string") return { at: (v as Position).at, id: (v as Position).id };
  } catch {
    // falls through to the refusal below
  }
  throw new AppError("BAD_REQUEST", "That page cursor is not one this list gave out; reload the list.", "cursor");
};

const newestFirst = (a: AlarmView, b: AlarmView) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1);

/**
 * Alarms of the user's regions (or one of them), newest first, keyset-paged across regions:
 * each region's store is asked for the page after the same position (created, id) and the
 * answers are merged. The service's cursor is that position as base64url JSON
 * (services/monitoring/api/cursor.ts), so one position serves every region.
 */
export const listAlarms = async (user: SessionUser, { region, status, site, device, severity, limit, cursor }: ListAlarmsInput) => {
  const { client } = requireConnector("monitoring");
  if (region !== undefined && !maySee(user, region)) return { items: [], nextCursor: null };
  const regions = region !== undefined ? [region] : user.regions;
  const position = cursor ? encode(decode(cursor)) : undefined;
  const pages = await Promise.all(
    regions.map((r) =>
      client.alarms(scopeOf(user), r, { status, site, device, severity, limit, cursor: position }).catch((error: unknown) => {
        // A region on the account that this service does not store has no alarms here.
        if (region === undefined && error instanceof UpstreamHttpError && error.status === 404) return { items: [], nextCursor: null };
        throw fromUpstream(error, `Region ${r}`);
      }),
    ),
  );
  const merged = pages.flatMap((p) => p.items).sort(newestFirst);
  const items = merged.slice(0, limit);
  const more = merged.length > limit || pages.some((p) => p.nextCursor !== null);
  const last = items.at(-1);
  return { items, nextCursor: more && last ? encode({ at: last.createdAt, id: last.id }) : null };
};
