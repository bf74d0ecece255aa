import type { CommandStatus, CommandView } from "@/contracts/console/commands";
import { describeError, formatDuration } from "../format";

export type Outcome = { tone: "pending" | "ok" | "warn" | "danger"; text: string };

/** Who answers a command, by domain. */
const ANSWERER: Record<string, string> = { charging: "station", robots: "fleet", flex: "flex node", monitoring: "monitoring service", system: "site" };

const STATUS_ORDER: Record<CommandStatus, number> = { pending: 0, sent: 1, accepted: 2, rejected: 2, failed: 2, timed_out: 2, offline: 2 };

/** The later of two copies of one command (the live feed can be older than a mutation's answer). */
export const newer = (a: CommandView, b: CommandView | undefined) => (b && STATUS_ORDER[b.status] >= STATUS_ORDER[a.status] ? b : a);

type Reply = {
  response?: { status?: unknown; statusInfo?: { reasonCode?: unknown; additionalInfo?: unknown } } | null;
  offline?: unknown;
  roundTripMs?: unknown;
  /** The station's reason and extra words for a rejection, as the connector stored them. */
  reason?: unknown;
  reasonDetail?: unknown;
  /** A CALLERROR's code and description. */
  errorCode?: unknown;
  errorDescription?: unknown;
};

const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);

const capitalize = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** Seconds between sending and giving up, from the row's own timestamps. */
const waitedSeconds = (c: Pick<CommandView, "sentAt" | "createdAt" | "completedAt" | "error">) => {
  const from = c.sentAt ?? c.createdAt;
  if (c.completedAt && from) return Math.max(1, Math.round((new Date(c.completedAt).getTime() - new Date(from).getTime()) / 1000));
  const said = c.error?.match(/within (\d+) s/);
  return said ? Number(said[1]) : undefined;
};

/**
 * A command's status in words, with the upstream's reason when the row carries one:
 * "Accepted", "Rejected by the station: TxInProgress", "Timed out: no answer in 20 s",
 * "Station offline — nothing was sent".
 */
export const describeCommand = (c: Pick<CommandView, "domain" | "status" | "error" | "result" | "sentAt" | "createdAt" | "completedAt">): Outcome => {
  const who = ANSWERER[c.domain] ?? "upstream";
  const reply = (c.result ?? {}) as Reply;
  const response = reply.response ?? undefined;
  switch (c.status) {
    case "pending":
      return { tone: "pending", text: "Queued — not sent yet" };
    case "sent":
      return { tone: "pending", text: `Sent — waiting for the ${who}…` };
    case "accepted": {
      const said = text(response?.status);
      if (typeof reply.roundTripMs === "number") return { tone: "ok", text: `Accepted — the ${who} answered in ${formatDuration(reply.roundTripMs)}` };
      return { tone: "ok", text: said && said !== "Accepted" ? `Accepted (${said})` : "Accepted" };
    }
    case "offline":
      return { tone: "warn", text: `${capitalize(who)} offline — nothing was sent` };
    case "rejected": {
      // Commands stored before `offline` was a status of its own.
      if (reply.offline === true) return { tone: "warn", text: `${capitalize(who)} offline — nothing was sent` };
      const status = text(response?.status);
      const detail = text(reply.reasonDetail) ?? text(response?.statusInfo?.additionalInfo);
      const code = text(reply.reason) ?? text(response?.statusInfo?.reasonCode) ?? (status && status !== "Rejected" ? status : undefined);
      const reason = code && detail ? `${code} (${detail})` : (code ?? detail);
      if (reason) return { tone: "danger", text: `Rejected by the ${who}: ${reason}` };
      if (!response && c.error) return { tone: "danger", text: `Rejected: ${describeError(c.error)}` };
      return { tone: "danger", text: `Rejected by the ${who}` };
    }
    case "timed_out": {
      const seconds = waitedSeconds(c);
      return { tone: "warn", text: seconds ? `Timed out: no answer in ${seconds} s` : "Timed out: no answer" };
    }
    case "failed": {
      const code = text(reply.errorCode);
      if (code) {
        const description = text(reply.errorDescription);
        return { tone: "danger", text: `Failed — the ${who} answered ${code}${description ? `: ${description}` : ""}` };
      }
      return { tone: "danger", text: c.error ? `Failed: ${describeError(c.error)}` : "Failed" };
    }
    default:
      return { tone: "pending", text: String(c.status) };
  }
};
