"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/server/commands/command-feed";
import { CommandStatusBadge, LinkBadge, LiveIndicator } from "./_components/badges";
import { errorMessage } from "./_components/errors";
import { formatAge, formatDateTime, formatDuration } from "./_components/format";
import { newIdempotencyKey } from "./_components/idempotency";
import { useLiveHealth } from "./_components/live-health";
import { useMe } from "./_components/session";
import { useCommandFeed } from "./_components/use-command-feed";
import { useNow } from "./_components/use-now";

const roundTripMs = (command: CommandView) => {
  const result = command.result as { roundTripMs?: unknown } | null;
  if (result && typeof result.roundTripMs === "number") return result.roundTripMs;
  return command.completedAt ? command.completedAt.getTime() - command.createdAt.getTime() : null;
};

const PingResult = ({ command }: { command: CommandView }) => {
  switch (command.status) {
    case "pending":
    case "sent":
      return (
        <span className="status-line">
          <CommandStatusBadge status={command.status} />
          <span>Waiting for the site to answer…</span>
        </span>
      );
    case "accepted":
      return (
        <span className="status-line">
          <CommandStatusBadge status={command.status} />
          <span>
            The site answered in <strong className="num">{formatDuration(roundTripMs(command))}</strong>
          </span>
        </span>
      );
    default:
      return (
        <span className="status-line">
          <CommandStatusBadge status={command.status} />
          <span>{command.error ?? "No answer."}</span>
        </span>
      );
  }
};

/** Sends a ping through the command path and follows its status live. */
const PingCard = ({ live }: { live: ReadonlyMap<string, CommandView> }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ping = useMutation(trpc.system.pingSite.mutationOptions());
  const sent = ping.data?.command;
  // The live feed is always at least as new as the mutation's answer.
  const command = sent ? (live.get(sent.id) ?? sent) : undefined;
  const final = command && command.status !== "pending" && command.status !== "sent";

  useEffect(() => {
    if (final) void queryClient.invalidateQueries(trpc.overview.summary.queryFilter());
  }, [final, queryClient, trpc]);

  return (
    <div className="card" data-testid="ping-card">
      <div className="card-head">
        <h2>Site round trip</h2>
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => ping.mutate({ idempotencyKey: newIdempotencyKey() })}
          disabled={ping.isPending || (command !== undefined && !final)}
          data-testid="ping-site"
        >
          {ping.isPending ? <span className="spinner" aria-hidden="true" /> : null}
          Ping site
        </button>
      </div>
      <div className="card-body">
        <p className="muted">Sends a command to the site process over MQTT and waits for its answer — the full command path, end to end.</p>
        <div role="status" aria-live="polite" data-testid="ping-status" data-status={ping.isError ? "error" : (command?.status ?? "idle")}>
          {ping.isError ? (
            <div className="alert alert-error">
              <p>{errorMessage(ping.error)}</p>
            </div>
          ) : command ? (
            <PingResult command={command} />
          ) : (
            <span className="muted">No ping sent yet.</span>
          )}
        </div>
      </div>
    </div>
  );
};

export const OverviewView = () => {
  const trpc = useTRPC();
  const { can } = useMe();
  const summary = useQuery(trpc.overview.summary.queryOptions(undefined, { refetchInterval: 30_000 }));
  const health = useLiveHealth();
  const canCommands = can("commands.read");
  const feed = useCommandFeed(canCommands);
  const now = useNow(1000);

  // Live health once it has arrived; the summary's copy until then.
  const links = health.received ? health.links : (summary.data?.links ?? []);
  const connected = (id: string) => links.some((l) => l.id === id && l.state === "connected");

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Overview</h1>
          <p>Every fleet Switchyard connects to, and how the connections are doing.</p>
        </div>
        {canCommands ? <LiveIndicator state={feed.state} /> : null}
      </div>

      {summary.isError ? (
        <div className="alert alert-error" role="alert">
          <p>Could not load the overview: {errorMessage(summary.error)}</p>
        </div>
      ) : null}

      <section className="section" aria-labelledby="domains-h">
        <h2 id="domains-h">Domains</h2>
        <div className="tiles">
          {(summary.data?.domains ?? []).map((domain) => {
            const on = connected(domain.id);
            return (
              <div key={domain.id} className="tile" data-connected={on} data-testid={`domain-${domain.id}`}>
                <div className="tile-head">
                  <h3>{domain.label}</h3>
                  {on ? <LinkBadge state="connected" /> : <span className="badge">Not connected yet</span>}
                </div>
                <div className="tile-note">{domain.description}</div>
                {!on ? <div className="tile-note">No live data yet: this domain&apos;s connector is not running.</div> : null}
              </div>
            );
          })}
          {summary.isPending
            ? [0, 1, 2, 3].map((i) => (
                <div key={i} className="tile" aria-hidden="true">
                  <div className="tile-note">Loading…</div>
                </div>
              ))
            : null}
        </div>
      </section>

      <section className="section" aria-labelledby="activity-h">
        <h2 id="activity-h">Commands, last 24 hours</h2>
        <div className="tiles">
          <div className="tile" data-testid="commands-24h">
            <div className="tile-note">All commands</div>
            <div className="tile-value">{summary.data?.commands24h ?? "—"}</div>
            {canCommands ? <Link href="/commands">View commands</Link> : null}
          </div>
          <div className="tile" data-testid="failed-24h">
            <div className="tile-note">Failed, rejected or timed out</div>
            <div className="tile-value" style={summary.data?.failed24h ? { color: "var(--danger)" } : undefined}>
              {summary.data?.failed24h ?? "—"}
            </div>
            {canCommands ? <Link href="/commands?status=failed">View failed</Link> : null}
          </div>
        </div>
      </section>

      {can("system.ping") ? (
        <section className="section" aria-label="Ping site">
          <PingCard live={feed.commands} />
        </section>
      ) : null}

      <section className="section" aria-labelledby="links-h">
        <h2 id="links-h">Upstream links</h2>
        <div className="table-wrap">
          {links.length === 0 ? (
            <div className="empty">
              <strong>{summary.isPending ? "Loading…" : "No upstream links"}</strong>
              {summary.isPending ? null : "The console has no upstream connections configured."}
            </div>
          ) : (
            <table className="data" data-testid="links-table">
              <thead>
                <tr>
                  <th scope="col">Upstream</th>
                  <th scope="col">State</th>
                  <th scope="col">Since</th>
                  <th scope="col">Last message</th>
                  <th scope="col">Detail</th>
                  <th scope="col">Address</th>
                </tr>
              </thead>
              <tbody>
                {links.map((link) => (
                  <tr key={link.id} data-testid={`link-${link.id}`}>
                    <td>
                      <strong>{link.label}</strong>
                    </td>
                    <td>
                      <LinkBadge state={link.state} />
                    </td>
                    <td className="nowrap" title={formatDateTime(link.since)}>
                      {formatAge(now - link.since)} ago
                    </td>
                    <td className="nowrap">{link.lastMessageAt ? `${formatAge(now - link.lastMessageAt)} ago` : "never"}</td>
                    <td>{link.detail ?? "—"}</td>
                    <td className="mono">{link.url ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </section>
    </>
  );
};
