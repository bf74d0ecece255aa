"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useMemo, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/server/commands/command-feed";
import type { StationDetail } from "@/contracts/csms";
import { LiveIndicator } from "../../_components/badges";
import { errorMessage } from "../../_components/errors";
import { formatAge, formatDateTime } from "../../_components/format";
import { useMe } from "../../_components/session";
import { useNow } from "../../_components/use-now";
import { ChargingNav } from "../_components/charging-nav";
import { ConnectorStatusBadge, formatKw, formatKwh, OnlineBadge, PROTOCOL_LABELS } from "../_components/station-badges";
import { useLiveStations } from "../_components/use-live-stations";
import { MessageLog } from "./message-log";
import { StationCommands } from "./station-commands";
import { TransactionCharts } from "./tx-charts";

const ConfigTable = ({ detail }: { detail: StationDetail }) => {
  const [q, setQ] = useState("");
  const rows = useMemo(() => {
    const all = detail.configuration
      ? detail.configuration.map((c) => ({ key: c.key, value: c.value, note: c.readonly ? "read-only" : "" }))
      : (detail.variables ?? []).map((v) => ({ key: `${v.component}.${v.variable}`, value: v.value, note: "" }));
    const needle = q.trim().toLowerCase();
    return needle ? all.filter((r) => r.key.toLowerCase().includes(needle) || (r.value ?? "").toLowerCase().includes(needle)) : all;
  }, [detail, q]);
  const none = !detail.configuration && !detail.variables;
  return (
    <div className="card" data-testid="station-config">
      <div className="card-head">
        <h2>{detail.protocol === "ocpp2.0.1" ? "Variables" : "Configuration"}</h2>
        {!none ? <input className="input" style={{ width: 200 }} type="search" placeholder="Filter…" aria-label="Filter configuration" value={q} onChange={(e) => setQ(e.target.value)} /> : null}
      </div>
      {none ? (
        <div className="empty">
          <strong>Not read yet</strong>
          The CSMS has no configuration for this station. Support staff can send &quot;Get configuration&quot;.
        </div>
      ) : (
        <div className="table-wrap" style={{ maxHeight: 360, overflow: "auto", boxShadow: "none", border: 0 }}>
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} data-testid={`config-${r.key}`}>
                  <td className="mono">{r.key}</td>
                  <td className="mono" style={{ wordBreak: "break-all" }}>
                    {r.value ?? "—"}
                  </td>
                  <td className="muted">{r.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
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
  const now = useNow(1000);
  const station = live.stations.get(stationId) ?? detail.data;

  const onOutcome = useCallback(
    (c: CommandView) => {
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
        <div className="page-header">
          <div>
            <h1 className="mono">{stationId}</h1>
          </div>
        </div>
        <ChargingNav />
        {detail.isError ? (
          <div className="alert alert-error" role="alert" data-testid="station-error">
            <p>{errorMessage(detail.error)}</p>
          </div>
        ) : (
          <div className="empty">Loading station…</div>
        )}
        <Link href="/charging">Back to stations</Link>
      </>
    );
  }

  const activeTx = station.activeTransactionIds[0];
  return (
    <>
      <div className="page-header">
        <div>
          <h1 className="mono" data-testid="station-id">
            {station.id}
          </h1>
          <p>
            {[station.vendor, station.model].filter(Boolean).join(" ") || "Unknown model"}
            {station.protocol ? ` · ${PROTOCOL_LABELS[station.protocol]}` : ""}
            {station.firmwareVersion ? ` · firmware ${station.firmwareVersion}` : ""}
          </p>
        </div>
        <span className="status-line" data-testid="station-online" data-online={station.online}>
          <OnlineBadge online={station.online} />
          <LiveIndicator state={live.state} />
        </span>
      </div>
      <ChargingNav />

      <section className="section grid-2" aria-label="Station">
        <div className="card">
          <div className="card-head">
            <h2>Station</h2>
          </div>
          <div className="card-body">
            <dl className="kv">
              <dt>Last seen</dt>
              <dd title={formatDateTime(station.lastSeenAt)}>{station.lastSeenAt ? `${formatAge(now - new Date(station.lastSeenAt).getTime())} ago` : "never"}</dd>
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
          <StationCommands stationId={stationId} station={live.stations.get(stationId)} onOutcome={onOutcome} />
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
        {detail.data ? <ConfigTable detail={detail.data} /> : detail.isError ? <div className="alert alert-error">{errorMessage(detail.error)}</div> : <div className="empty">Loading…</div>}
        <MessageLog stationId={stationId} />
      </section>
    </>
  );
};
