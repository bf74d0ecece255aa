"use client";

import { LINK_STATE_LABELS } from "./badges";
import { formatAge, formatDateTime } from "./format";
import { useLiveHealth, type UpstreamStatus } from "./live-health";
import { useNow } from "./use-now";

const lastMessage = (link: UpstreamStatus, now: number) =>
  link.lastMessageAt ? `last message ${formatAge(now - link.lastMessageAt)} ago` : "no messages yet";

const tooltip = (link: UpstreamStatus, now: number) =>
  [
    `${link.label}: ${LINK_STATE_LABELS[link.state] ?? link.state} since ${formatDateTime(link.since)}`,
    link.detail,
    link.url,
    link.lastMessageAt ? `Last message ${formatDateTime(link.lastMessageAt)} (${formatAge(now - link.lastMessageAt)} ago)` : "No messages yet",
  ]
    .filter(Boolean)
    .join("\n");

/** One pill per upstream connection, live, with the age of its last message ticking. */
export const HealthBar = () => {
  const { links, received, state } = useLiveHealth();
  const now = useNow(1000);
  return (
    <div className="health-bar" data-testid="health-bar" aria-label="Upstream connections">
      {state === "reconnecting" ? (
        <span className="live-status" role="status" data-testid="live-feed-status">
          <span className="spinner" aria-hidden="true" /> Live feed reconnecting…
        </span>
      ) : null}
      {!received && state === "connecting" ? <span className="muted" style={{ fontSize: 12 }}>Connecting to live feed…</span> : null}
      {received && links.length === 0 ? <span className="muted" style={{ fontSize: 12 }}>No upstream connections configured</span> : null}
      <ul>
        {links.map((link) => (
          <li
            key={link.id}
            className="pill"
            data-testid={`health-${link.id}`}
            data-state={link.state}
            title={tooltip(link, now)}
            tabIndex={0}
          >
            <span className="dot" aria-hidden="true" />
            <span className="pill-label">{link.label}</span>
            <span className="pill-state">{LINK_STATE_LABELS[link.state] ?? link.state}</span>
            <span className="pill-age">· {lastMessage(link, now)}</span>
            <span className="sr-only">
              {link.detail ? `, ${link.detail}` : ""}
              {link.url ? `, ${link.url}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
};
