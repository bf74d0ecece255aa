"use client";

import { ALARM_SEVERITIES, type AlarmCounts, type AlarmSeverity, type AlarmView } from "@/contracts/monitoring";
import { LinkBadge } from "../../_components/badges";
import { useLiveHealth } from "../../_components/live-health";

const SEVERITY_TONE: Record<AlarmSeverity, string> = { critical: "badge-danger", major: "badge-danger", minor: "badge-warn", warning: "badge-warn", indeterminate: "" };
export const SEVERITY_LABELS: Record<AlarmSeverity, string> = { critical: "Critical", major: "Major", minor: "Minor", warning: "Warning", indeterminate: "Indeterminate" };

export const SeverityBadge = ({ severity }: { severity: AlarmSeverity }) => (
  <span className={`badge ${SEVERITY_TONE[severity]}`} data-severity={severity}>
    {SEVERITY_LABELS[severity]}
  </span>
);

export const ALARM_STATUS_LABELS: Record<AlarmView["status"], string> = {
  active_unack: "Active, not acknowledged",
  active_ack: "Active, acknowledged",
  cleared_unack: "Cleared, not acknowledged",
  cleared_ack: "Cleared and acknowledged",
};

const ALARM_STATUS_SHORT: Record<AlarmView["status"], string> = { active_unack: "Active", active_ack: "Acknowledged", cleared_unack: "Cleared", cleared_ack: "Cleared, acknowledged" };

export const AlarmStatusBadge = ({ alarm }: { alarm: Pick<AlarmView, "status" | "active" | "acknowledged"> }) => (
  <span className={`badge ${alarm.active ? (alarm.acknowledged ? "badge-warn" : "badge-danger") : "badge-ok"}`} data-status={alarm.status} title={ALARM_STATUS_LABELS[alarm.status]}>
    {ALARM_STATUS_SHORT[alarm.status]}
  </span>
);

export const ALARM_TYPE_LABELS: Record<AlarmView["type"], string> = {
  cell_voltage: "Cell voltage",
  cell_imbalance: "Cell imbalance",
  pack_temperature: "Pack temperature",
  bus_fault: "Bus fault",
  mppt_fault: "MPPT fault",
  inverter_fault: "Inverter fault",
  device_silent: "Device silent",
  metric_threshold: "Threshold",
};

/** "2 critical · 1 minor", or `none` ("None" in a table's Alarms column); each severity its own badge. */
export const AlarmCountBadges = ({ counts, testId, none = "None" }: { counts: AlarmCounts; testId?: string; none?: string }) => {
  const present = ALARM_SEVERITIES.filter((s) => counts[s] > 0);
  return (
    <span className="status-line" data-testid={testId} data-total={counts.total}>
      {present.length === 0 ? (
        <span className="muted">{none}</span>
      ) : (
        present.map((s) => (
          <span key={s} className={`badge ${SEVERITY_TONE[s]}`} data-severity={s}>
            {counts[s]} {s}
          </span>
        ))
      )}
    </span>
  );
};

/** What the monitoring link is doing, when it is not simply connected; or that the connector is off. */
export const MonitoringLinkAlert = () => {
  const health = useLiveHealth();
  const link = health.links.find((l) => l.id === "monitoring");
  if (health.received && !link)
    return (
      <div className="alert alert-info" role="status" data-testid="monitoring-off-alert">
        <p>The monitoring connector is not running (MONITORING_URL is unset or off). Nothing to show.</p>
      </div>
    );
  if (!link || link.state === "connected") return null;
  return (
    <div className="alert alert-warn" role="status" data-testid="monitoring-link-alert">
      <p>
        The monitoring service is {link.state === "down" ? "unreachable" : "reconnecting"}
        {link.detail ? ` (${link.detail})` : ""}. What is shown is the last known state and may be stale.
      </p>
    </div>
  );
};

export const MonitoringLinkBadge = () => {
  const link = useLiveHealth().links.find((l) => l.id === "monitoring");
  return link ? <LinkBadge state={link.state} /> : null;
};

export const siteHref = (region: string, site: string) => `/monitoring/sites/${encodeURIComponent(region)}/${encodeURIComponent(site)}`;
export const deviceHref = (region: string, device: string) => `/monitoring/devices/${encodeURIComponent(region)}/${encodeURIComponent(device)}`;
