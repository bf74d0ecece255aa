"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo } from "react";
import { useTRPC, type RouterOutputs } from "@/app/_trpc/client";
import type { FeatureMessage } from "@/contracts/monitoring";
import { formatDateTime } from "../../_components/format";
import { CommandButton } from "../../_components/ui/command-button";
import { DataTable } from "../../_components/ui/data-table";
import { useLiveFeed } from "../../_components/ui/live-feed";
import { MonitoringHeader } from "../_components/monitoring-header";

type Flag = RouterOutputs["monitoring"]["flags"]["get"]["catalogue"][number] & { enabled: boolean };
const flagsKey = () => "flags";

const column = createColumnHelper<Flag>();

/** The switch of one flag: a command with a confirmation, since every consumer applies it at once. */
const FlagSwitch = ({ flag }: { flag: Flag }) => {
  const trpc = useTRPC();
  const set = useMutation(trpc.monitoring.flags.set.mutationOptions());
  const next = !flag.enabled;
  return (
    <CommandButton
      id={`flag-${flag.name}`}
      label={next ? "Turn on" : "Turn off"}
      tone={next ? "primary" : "danger"}
      layout="inline"
      testId={`flag-toggle-${flag.name}`}
      statusTestId={`flag-status-${flag.name}`}
      confirm={{
        title: `${next ? "Turn on" : "Turn off"} “${flag.name}”?`,
        body: <p>{flag.description}. Every consumer of the monitoring service applies the change at once, in every region.</p>,
        confirmLabel: next ? "Turn on" : "Turn off",
      }}
      submit={(idempotencyKey) => set.mutateAsync({ name: flag.name, enabled: next, idempotencyKey })}
    />
  );
};

const COLUMNS = [
  column.accessor("name", { header: "Flag", meta: { className: "mono" } }),
  column.accessor("description", { header: "What it does" }),
  column.accessor("enabled", { header: "State", cell: ({ row: { original: f } }) => <span className={`badge ${f.enabled ? "badge-ok" : ""}`} data-testid={`flag-state-${f.name}`} data-enabled={f.enabled}>{f.enabled ? "On" : "Off"}</span> }),
  column.accessor("default", { header: "Default", cell: ({ getValue }) => (getValue() ? "On" : "Off") }),
  column.display({ id: "switch", header: "Switch", meta: { srOnly: true }, cell: ({ row: { original: f } }) => <FlagSwitch flag={f} /> }),
];

/** The monitoring service's feature flags, live, with a switch each (admins; audited). */
export const FlagsView = () => {
  const trpc = useTRPC();
  const get = useQuery(trpc.monitoring.flags.get.queryOptions());
  const live = useLiveFeed<FeatureMessage>({ keyOf: flagsKey, subscribe: (onData) => trpc.monitoring.flags.onChange.subscriptionOptions(undefined, { onData }) });
  const message = live.items.get("flags") ?? get.data?.message;
  const rows = useMemo<Flag[]>(() => (get.data?.catalogue ?? []).map((f) => ({ ...f, enabled: message?.flags[f.name] ?? f.default })), [get.data, message]);
  return (
    <>
      <MonitoringHeader title="Feature flags" description="Switches of the monitoring service, published on system.feature and applied live by every consumer." live={live.state} />
      <DataTable
        label="Feature flags"
        columns={COLUMNS}
        rows={rows}
        rowId={(f) => f.name}
        rowAttrs={(f) => ({ "data-testid": `flag-row-${f.name}` })}
        status={{ loading: get.isPending, error: get.error ?? undefined, retry: () => void get.refetch() }}
        noun="feature flags"
        empty={{ title: "No flags" }}
        sortParam={false}
        foot={message ? <span data-testid="flags-version">Version {message.version}{message.version ? `, changed ${formatDateTime(message.updatedAt)} by ${message.updatedBy}` : " (defaults)"}</span> : null}
        testId="flags-table"
      />
    </>
  );
};
