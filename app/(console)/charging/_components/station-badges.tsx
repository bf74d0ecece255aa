import type { StationView } from "@/contracts/csms";

const TONE: Record<string, "ok" | "info" | "warn" | "danger" | ""> = {
  Available: "ok",
  Preparing: "info",
  Charging: "info",
  SuspendedEV: "warn",
  SuspendedEVSE: "warn",
  Finishing: "info",
  Reserved: "warn",
  Unavailable: "",
  Faulted: "danger",
  Occupied: "info",
};

export const statusTone = (status: string) => TONE[status] ?? "";

export const ConnectorStatusBadge = ({ status }: { status: string }) => {
  const tone = statusTone(status);
  return (
    <span className={`badge ${tone ? `badge-${tone}` : ""}`} data-status={status}>
      {status}
    </span>
  );
};

export const OnlineBadge = ({ online }: { online: boolean }) => (
  <span className="badge" data-state={online ? "connected" : "down"} data-online={online}>
    <span className="dot" aria-hidden="true" />
    {online ? "Online" : "Offline"}
  </span>
);

/** One small square per connector, coloured by status (the table's compact view). */
export const ConnectorStrip = ({ station }: { station: StationView }) => (
  <span className="conn-strip" aria-label={station.connectors.map((c) => `${c.evseId}/${c.connectorId} ${c.status}`).join(", ")}>
    {station.connectors.map((c) => (
      <span key={`${c.evseId}-${c.connectorId}`} className={`conn-dot ${statusTone(c.status) ? `tone-${statusTone(c.status)}` : ""}`} title={`EVSE ${c.evseId} connector ${c.connectorId}: ${c.status}`} />
    ))}
  </span>
);

export const PROTOCOL_LABELS: Record<string, string> = { "ocpp1.6": "OCPP 1.6J", "ocpp2.0.1": "OCPP 2.0.1" };

export const formatKw = (w: number | null | undefined) => (w === null || w === undefined ? "—" : `${(w / 1000).toFixed(1)} kW`);
export const formatKwh = (wh: number | null | undefined) => (wh === null || wh === undefined ? "—" : `${(wh / 1000).toFixed(wh >= 100_000 ? 0 : 1)} kWh`);
