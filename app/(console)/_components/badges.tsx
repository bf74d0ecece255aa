import { COMMAND_STATUSES, type CommandStatus } from "@/contracts/console/commands";
import type { LinkState } from "./live-health";

export const LINK_STATE_LABELS: Record<LinkState, string> = { connected: "Connected", reconnecting: "Reconnecting", down: "Down" };

export const LinkBadge = ({ state }: { state: LinkState }) => (
  <span className="badge" data-state={state}>
    <span className="dot" aria-hidden="true" />
    {LINK_STATE_LABELS[state] ?? state}
  </span>
);

/** Every command status, in lifecycle order. */
export const COMMAND_STATUS_LIST = COMMAND_STATUSES;

const COMMAND_STATUS: Record<CommandStatus, { label: string; tone: string }> = {
  pending: { label: "Pending", tone: "" },
  sent: { label: "Sent", tone: "badge-info" },
  accepted: { label: "Accepted", tone: "badge-ok" },
  rejected: { label: "Rejected", tone: "badge-danger" },
  failed: { label: "Failed", tone: "badge-danger" },
  timed_out: { label: "Timed out", tone: "badge-warn" },
  offline: { label: "Offline — not sent", tone: "badge-warn" },
};

export const commandStatusLabel = (status: CommandStatus) => COMMAND_STATUS[status]?.label ?? status;

export const CommandStatusBadge = ({ status }: { status: CommandStatus }) => (
  <span className={`badge ${COMMAND_STATUS[status]?.tone ?? ""}`} data-status={status}>
    {(status === "pending" || status === "sent") && <span className="spinner" aria-hidden="true" style={{ width: 9, height: 9, borderWidth: 1.5 }} />}
    {commandStatusLabel(status)}
  </span>
);

const OUTCOME: Record<string, { label: string; tone: string }> = {
  ok: { label: "OK", tone: "badge-ok" },
  error: { label: "Error", tone: "badge-danger" },
  denied: { label: "Denied", tone: "badge-warn" },
};

export const OutcomeBadge = ({ outcome }: { outcome: string }) => (
  <span className={`badge ${OUTCOME[outcome]?.tone ?? ""}`}>{OUTCOME[outcome]?.label ?? outcome}</span>
);

export const LiveIndicator = ({ state }: { state: "off" | "connecting" | "live" | "reconnecting" }) => {
  if (state === "off") return null;
  const map = {
    connecting: { label: "Connecting…", data: "reconnecting" },
    live: { label: "Live", data: "connected" },
    reconnecting: { label: "Reconnecting…", data: "reconnecting" },
  } as const;
  return (
    <span className="badge" data-state={map[state].data} data-testid="live-indicator">
      <span className="dot" aria-hidden="true" />
      {map[state].label}
    </span>
  );
};
