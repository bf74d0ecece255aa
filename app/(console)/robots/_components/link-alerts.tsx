"use client";

import { LinkBadge, LiveIndicator } from "../../_components/badges";
import { useLiveHealth } from "../../_components/live-health";
import type { LiveState } from "../../_components/ui/live-feed";

/** The RMF link on the health bar ("robots"), as the robots pages show it. */
export const useRmfLink = () => {
  const health = useLiveHealth();
  return { link: health.links.find((l) => l.id === "robots"), received: health.received };
};

export const RmfStatusLine = ({ state }: { state: LiveState }) => {
  const { link } = useRmfLink();
  return (
    <span className="status-line">
      {link ? <LinkBadge state={link.state} /> : null}
      <LiveIndicator state={state} />
    </span>
  );
};

/** Says when what the page shows may be stale (RMF unreachable) or when there is nothing to show (connector off). */
export const RmfLinkAlerts = () => {
  const { link, received } = useRmfLink();
  if (link && link.state !== "connected")
    return (
      <div className="alert alert-warn" role="status" data-testid="rmf-link-alert">
        <p>
          The RMF api-server is {link.state === "down" ? "unreachable" : "reconnecting"}
          {link.detail ? ` (${link.detail})` : ""}. What you see is the last known state and may be stale.
        </p>
      </div>
    );
  if (received && !link)
    return (
      <div className="alert alert-info" role="status" data-testid="rmf-off-alert">
        <p>The robots connector is not running (RMF_URL is off, or no RMF_JWT_SECRET is known). Nothing to show.</p>
      </div>
    );
  return null;
};
