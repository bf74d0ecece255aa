"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { useCallback, useMemo } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/contracts/console/commands";
import type { StationDetail } from "@/contracts/csms";
import { LiveIndicator } from "../../_components/badges";
import { formatDateTime } from "../../_components/format";
import { Ago } from "../../_components/ui/ago";
import { useMe } from "../../_components/session";
import { DataTable } from "../../_components/ui/data-table";
import { TextFilter } from "../../_components/ui/filters";
import { errorMessage } from "../../_components/ui/messages";
import { PageHeader } from "../../_components/ui/page-header";
import { useUrlState } from "../../_components/ui/url-state";
import { ChargingNav } from "../_components/charging-nav";
import { ConnectorStatusBadge, formatKw, formatKwh, OnlineBadge, PROTOCOL_LABELS } from "../_components/station-badges";
import { useLiveStations } from "../_components/use-live-stations";
import { MessageLog } from "./message-log";
import { actionLabel, type StationCatalogue } from "../_components/command-params";
import { StationCommands } from "./station-commands";
import { TransactionCharts } from "./tx-charts";

type ConfigRow = { key: string; value: string | null; note: string };

/** The keys the station reported (1.6 configuration keys, 2.0.1 `Component.Variable`), for the command forms. */
const catalogueOf = (protocol: StationDetail["protocol"] | undefined, detail: StationDetail | undefined): StationCatalogue => ({
  protocol: protocol ?? detail?.protocol ?? null,
  keys: detail?.configuration ? detail.configuration.map((c) => c.key) : (detail?.variables ?? []).map((v) => `${v.component}.${v.variable}`),
});

const configColumn = createColumnHelper<ConfigRow>();

const CONFIG_COLUMNS = [
  configColumn.accessor("key", { header: "Key", meta: { className: "mono" } }),
  configColumn.accessor((r) => r.value ?? "", { id: "value", header: "Value", meta: { className: "mono break" }, cell: ({ getValue }) => getValue() || "—" }),
  configColumn.accessor("note", { header: "Note", enableSorting: false, meta: { className: "muted" } }),
];

/** What the station last reported: 1.6 configuration keys or 2.0.1 variables, filterable. */
const ConfigTable = ({ detail }: { detail: StationDetail }) => {
  const url = useUrlState(["config"]);
  const needle = url.values.config.toLowerCase();
  const rows = useMemo(() => {
    const all: ConfigRow[] = detail.configuration
      ? detail.configuration.map((c) => ({ key: c.key, value: c.value ?? null, note: c.readonly ? "read-only" : "" }))
      : (detail.variables ?? []).map((v) => ({ key: `${v.component}.${v.variable}`, value: v.value ?? null, note: "" }));
    return needle ? all.filter((r) => r.key.toLowerCase().includes(needle) || (r.value ?? "").toLowerCase().includes(needle)) : all;
  }, [detail, needle]);
  const none = !detail.configuration && !detail.variables;
  return (
    <div className="card" data-testid="station-config">
      <div className="card-head">
        <h2>{detail.protocol === "ocpp2.0.1" ? "Variables" : "Configuration"}</h2>
        {!none ? <TextFilter label="Filter configuration" value={url.values.config} onChange={(config) => url.set({ config })} placeholder="Key or value…" testId="config-filter" /> : null}
      </div>
      <DataTable
        label={detail.protocol === "ocpp2.0.1" ? "Variables" : "Configuration"}
        columns={CONFIG_COLUMNS}
        rows={rows}
        rowId={(r) => r.key}
        rowAttrs={(r) => ({ "data-testid": `config-${r.key}` })}
        sortParam="configSort"
        status={{ loading: false }}
        noun="the configuration"
        empty={
          none
            ? { title: "Not read yet", hint: `The CSMS has no configuration for this station. Support staff can send “${actionLabel("getConfiguration", detail.protocol, "Get configuration")}”.` }
            : { title: "Nothing matches", hint: "Try another key or value." }
        }
        bare
        maxHeight={360}
      />
    </div>
  );
};

/** One station: live connectors and transaction, charts, configuration, message log, commands. */
export const StationPage = ({ stationId }: { stationId: string }) => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { can } = useMe();
  const canCommand = can("charging.command");
  const live = useLiveStations(stationId);
  const detail = useQuery(trpc.charging.stations.get.queryOptions({ stationId }));
  const station = live.stations.get(stationId) ?? detail.data;
  const catalogue = useMemo(() => catalogueOf(station?.protocol, detail.data), [station?.protocol, detail.data]);

  const onOutcome = useCallback(
    (c: CommandView) => {
      void queryClient.invalidateQueries(trpc.charging.stations.messages.pathFilter());
      if (c.status === "accepted" && (c.action === "getConfiguration" || c.action === "changeConfiguration")) {
        // The manager stores what the station reported; give it a moment, then re-read.
        setTimeout(() => void queryClient.invalidateQueries(trpc.charging.stations.get.queryFilter({ stationId })), 500);
      }
    },
    [queryClient, trpc, stationId],
  );

  if (!station) {
    return (
      <>
        <PageHeader title={stationId} titleClassName="mono" />
        <ChargingNav />
        {detail.isError ? (
          <div className="alert alert-error" role="alert" data-testid="station-error">
            <p style={{ flex: 1 }}>{errorMessage(detail.error)}</p>
            <button type="button" className="btn btn-sm" onClick={() => void detail.refetch()}>
              Try again
            </button>
          </div>
        ) : (
          <div className="empty" role="status">
            Loading station…
          </div>
        )}
        <Link href="/charging">Back to stations</Link>
      </>
    );
  }

  const activeTx = station.activeTransactionIds[0];
  return (
    <>
      <PageHeader
        title={station.id}
        titleClassName="mono"
        titleTestId="station-id"
        description={
          <>
            {[station.vendor, station.model].filter(Boolean).join(" ") || "Unknown model"}
            {station.protocol ? ` · ${PROTOCOL_LABELS[station.protocol]}` : ""}
            {station.firmwareVersion ? ` · firmware ${station.firmwareVersion}` : ""}
          </>
        }
        actions={
          <span className="status-line" data-testid="station-online" data-online={station.online}>
            <OnlineBadge online={station.online} />
            <LiveIndicator state={live.state} />
          </span>
        }
      />
      <ChargingNav />

      <section className="section grid-2" aria-label="Station">
        <div className="card">
          <div className="card-head">
            <h2>Station</h2>
          </div>
          <div className="card-body">
            <dl className="kv">
              <dt>Last seen</dt>
              <dd>
                <Ago at={station.lastSeenAt} testId="station-last-seen" />
              </dd>
              <dt>Booted</dt>
              <dd data-testid="station-booted-at">{formatDateTime(station.bootedAt)}</dd>
              <dt>Heartbeat</dt>
              <dd>{station.heartbeatIntervalSec ? `every ${station.heartbeatIntervalSec} s` : "—"}</dd>
              <dt>Serial number</dt>
              <dd className="mono">{station.serialNumber ?? "—"}</dd>
              <dt>Gateway</dt>
              <dd className="mono">{station.gateway ?? "—"}</dd>
              <dt>Power now</dt>
              <dd>{formatKw(station.powerW)}</dd>
              <dt>Energy today</dt>
              <dd>{formatKwh(station.energyTodayWh)}</dd>
              {detail.data?.registeredAt ? (
                <>
                  <dt>Registered</dt>
                  <dd>{formatDateTime(detail.data.registeredAt)}</dd>
                </>
              ) : null}
            </dl>
          </div>
        </div>
        <div className="card">
          <div className="card-head">
            <h2>Connectors</h2>
          </div>
          <div className="card-body">
            {station.connectors.length === 0 ? (
              <p className="muted">The station has not reported any connector yet.</p>
            ) : (
              <div className="connectors">
                {station.connectors.map((c) => (
                  <div key={`${c.evseId}-${c.connectorId}`} className="tile" data-testid={`connector-${c.evseId}-${c.connectorId}`} data-status={c.status}>
                    <div className="tile-head">
                      <h3>
                        EVSE {c.evseId} · connector {c.connectorId}
                      </h3>
                    </div>
                    <ConnectorStatusBadge status={c.status} />
                    {c.errorCode && c.errorCode !== "NoError" ? <div className="tile-note" style={{ color: "var(--danger)" }}>{c.errorCode}</div> : null}
                    {typeof c.powerW === "number" || typeof c.sessionEnergyWh === "number" ? (
                      <div className="tile-note" data-testid={`connector-${c.evseId}-${c.connectorId}-figures`}>
                        {typeof c.powerW === "number" ? formatKw(c.powerW) : "—"}
                        {typeof c.sessionEnergyWh === "number" ? ` · ${formatKwh(c.sessionEnergyWh)} this session` : ""}
                      </div>
                    ) : null}
                    <div className="tile-note">{c.updatedAt ? `since ${formatDateTime(c.updatedAt)}` : ""}</div>
                  </div>
                ))}
              </div>
            )}
          </div>
        </div>
      </section>

      {canCommand ? (
        <section className="section" aria-label="Commands">
          <StationCommands stationId={stationId} station={live.stations.get(stationId)} catalogue={catalogue} onOutcome={onOutcome} />
        </section>
      ) : (
        <p className="muted" data-testid="read-only-note">
          Read-only: commands are sent by support staff.
        </p>
      )}

      <section className="section" aria-labelledby="tx-h">
        <div className="card">
          <div className="card-head">
            <h2 id="tx-h">Active transaction</h2>
            <Link href={`/charging/transactions?stationId=${encodeURIComponent(stationId)}`}>All transactions</Link>
          </div>
          <div className="card-body" data-testid="active-transaction">
            {activeTx ? <TransactionCharts key={activeTx} stationId={stationId} transactionId={activeTx} /> : <p className="muted">No charging session right now.</p>}
          </div>
        </div>
      </section>

      <section className="section grid-2" aria-label="Configuration and messages">
        {detail.data ? (
          <ConfigTable detail={detail.data} />
        ) : detail.isError ? (
          <div className="alert alert-error" role="alert">
            <p>Could not read the configuration: {errorMessage(detail.error)}</p>
          </div>
        ) : (
          <div className="empty" role="status">
            Loading the configuration…
          </div>
        )}
        <MessageLog stationId={stationId} />
      </section>
    </>
  );
};
