"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { isDomainLink } from "@/contracts/console/links";
import { LinkBadge, LiveIndicator } from "./_components/badges";
import { ChargingOverviewTiles } from "./charging/_components/charging-overview";
import { formatAge, formatDateTime } from "./_components/format";
import { useLiveHealth, type UpstreamStatus } from "./_components/live-health";
import { useMe } from "./_components/session";
import { CommandButton } from "./_components/ui/command-button";
import { useCommandFeed } from "./_components/ui/command-feed";
import { DataTable } from "./_components/ui/data-table";
import { KpiTiles, type Kpi } from "./_components/ui/kpi-tiles";
import { PageHeader } from "./_components/ui/page-header";
import { useNow } from "./_components/use-now";

const column = createColumnHelper<UpstreamStatus>();

const linkColumns = (now: number) => [
  column.accessor("label", { header: "Upstream", cell: ({ getValue }) => <strong>{getValue()}</strong> }),
  column.accessor("state", { header: "State", cell: ({ getValue }) => <LinkBadge state={getValue()} /> }),
  column.accessor("since", { header: "Since", meta: { className: "nowrap" }, cell: ({ getValue }) => <span title={formatDateTime(getValue())}>{formatAge(now - getValue())} ago</span> }),
  column.accessor((l) => l.lastMessageAt ?? undefined, {
    id: "lastMessage",
    header: "Last message",
    meta: { className: "nowrap" },
    sortUndefined: "last",
    cell: ({ getValue }) => {
      const at = getValue();
      return at ? `${formatAge(now - at)} ago` : "never";
    },
  }),
  column.accessor((l) => l.detail ?? "", { id: "detail", header: "Detail", cell: ({ getValue }) => getValue() || "—" }),
  column.accessor((l) => l.url ?? "", { id: "url", header: "Address", meta: { className: "mono" }, cell: ({ getValue }) => getValue() || "—" }),
];

/** Sends a ping through the command path and says, live, what became of it. */
const PingCard = () => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ping = useMutation(trpc.system.pingSite.mutationOptions());
  return (
    <div className="card" data-testid="ping-card">
      <div className="card-head">
        <h2>Site round trip</h2>
      </div>
      <div className="card-body">
        <p className="muted" style={{ marginBottom: 10 }}>
          Sends a command to the site process over MQTT and waits for its answer — the full command path, end to end.
        </p>
        <CommandButton
          id="ping"
          label="Ping site"
          tone="primary"
          layout="inline"
          submit={(idempotencyKey) => ping.mutateAsync({ idempotencyKey })}
          onOutcome={() => void queryClient.invalidateQueries(trpc.overview.summary.queryFilter())}
          testId="ping-site"
          statusTestId="ping-status"
          idle={<span className="muted">No ping sent yet.</span>}
        />
      </div>
    </div>
  );
};

/** Command activity needs the live feed only for roles that read commands. */
const CommandsLive = () => <LiveIndicator state={useCommandFeed().state} />;

/** Every fleet, its connection and the last day's commands, for every role. */
export const OverviewView = () => {
  const trpc = useTRPC();
  const { can } = useMe();
  const summary = useQuery(trpc.overview.summary.queryOptions(undefined, { refetchInterval: 30_000 }));
  const health = useLiveHealth();
  const canCommands = can("commands.read");
  const now = useNow(1000);

  // Live health once it has arrived; the summary's copy until then.
  const links = health.received ? health.links : (summary.data?.links ?? []);
  const columns = useMemo(() => linkColumns(now), [now]);

  const domains: Kpi[] = (summary.data?.domains ?? []).map((domain) => {
    // A domain with several links (flex: one per node) is connected when one of them is.
    const on = links.some((l) => isDomainLink(l.id, domain.id) && l.state === "connected");
    return {
      id: domain.id,
      label: domain.label,
      value: on ? <LinkBadge state="connected" /> : <span className="badge">Not connected yet</span>,
      note: on ? domain.description : `${domain.description}. No live data yet: this domain’s connector is not running.`,
      testId: `domain-${domain.id}`,
    };
  });
  const failed = summary.data?.failed24h;
  const activity: Kpi[] = [
    { id: "commands-24h", label: "All commands", value: summary.data?.commands24h ?? "—", href: canCommands ? "/commands" : undefined, action: "View commands", testId: "commands-24h" },
    {
      id: "failed-24h",
      label: "Failed, rejected, timed out or offline",
      value: failed ?? "—",
      tone: failed ? "danger" : undefined,
      href: canCommands ? "/commands?status=problems" : undefined,
      action: "View failed commands",
      testId: "failed-24h",
    },
  ];

  return (
    <>
      <PageHeader title="Overview" description="Every fleet Switchyard connects to, and how the connections are doing." actions={canCommands ? <CommandsLive /> : null} />

      {summary.isError ? (
        <div className="alert alert-error" role="alert">
          <p style={{ flex: 1 }}>Could not load the overview: the figures below may be missing.</p>
          <button type="button" className="btn btn-sm" onClick={() => void summary.refetch()}>
            Try again
          </button>
        </div>
      ) : null}

      <section className="section" aria-labelledby="domains-h">
        <h2 id="domains-h">Domains</h2>
        {summary.isPending ? (
          <div className="empty" role="status">
            Loading…
          </div>
        ) : (
          <KpiTiles items={domains} label="Domains" />
        )}
      </section>

      {can("charging.read") ? <ChargingOverviewTiles /> : null}

      <section className="section" aria-labelledby="activity-h">
        <h2 id="activity-h">Commands, last 24 hours</h2>
        <KpiTiles items={activity} label="Commands, last 24 hours" />
      </section>

      {can("system.ping") ? (
        <section className="section" aria-label="Ping site">
          <PingCard />
        </section>
      ) : null}

      <section className="section" aria-labelledby="links-h">
        <h2 id="links-h">Upstream links</h2>
        <DataTable
          label="Upstream links"
          columns={columns}
          rows={links}
          rowId={(l) => l.id}
          rowAttrs={(l) => ({ "data-testid": `link-${l.id}` })}
          sortParam={false}
          status={{ loading: summary.isPending && !health.received, error: health.received ? null : summary.error, retry: () => void summary.refetch() }}
          noun="the upstream links"
          empty={{ title: "No upstream links", hint: "The console has no upstream connections configured." }}
          testId="links-table"
        />
      </section>
    </>
  );
};
