import type { ReactNode } from "react";

const TONES: Record<string, string> = {
  active: "badge-info",
  collecting: "badge-info",
  matched: "badge-ok",
  awarded: "badge-ok",
  activating: "badge-warn",
  delivered: "badge-ok",
  settled: "",
  sealed: "",
  unmatched: "badge-warn",
  cancelled: "",
  expired: "",
};

/** A request's, bundle's or trade's status as a badge. */
export const FlexStatus = ({ status, children }: { status: string; children?: ReactNode }) => (
  <span className={`badge ${TONES[status] ?? ""}`} data-status={status}>
    {children ?? status}
  </span>
);

/** Up regulation (less consumption / more feed-in) or down. */
export const DirectionLabel = ({ direction }: { direction: "up" | "down" }) => <span className="nowrap">{direction === "up" ? "▲ up" : "▼ down"}</span>;
