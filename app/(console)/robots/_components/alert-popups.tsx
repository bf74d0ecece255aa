"use client";

import { useMutation } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { AlertView } from "@/server/connectors/rmf";
import { useMe } from "../../_components/session";
import { CommandButton } from "../../_components/ui/command-button";
import { useRobotsSite } from "./robots-site";

const TONE = { info: "alert-info", warning: "alert-warn", error: "alert-error" } as const;
/** At most this many alerts are shown at once (newest first); the rest wait their turn. */
const SHOWN = 3;
/** An information alert this recent when the page opened still pops up. */
const NEW_FOR_MS = 60_000;

const AlertCard = ({ alert, canRespond, onHide }: { alert: AlertView; canRespond: boolean; onHide: () => void }) => {
  const trpc = useTRPC();
  const respond = useMutation(trpc.robots.alerts.respond.mutationOptions());
  return (
    <div className={`alert ${TONE[alert.tier]}`} role="alert" data-testid={`robot-alert-${alert.id}`}>
      <div style={{ flex: 1 }}>
        <p>
          <strong>{alert.title}</strong> {alert.subtitle ? <span className="muted">{alert.subtitle}</span> : null}
        </p>
        {alert.message ? <p>{alert.message}</p> : null}
        {alert.task_id ? (
          <p>
            Task <Link href={`/robots/tasks/${encodeURIComponent(alert.task_id)}`} className="mono">{alert.task_id}</Link>
          </p>
        ) : null}
        <span className="actions" style={{ marginTop: 6 }}>
          {canRespond
            ? alert.responses_available.map((r) => (
                <CommandButton key={r} id={`alert-${alert.id}-${r}`} label={r} layout="inline" submit={(idempotencyKey) => respond.mutateAsync({ alertId: alert.id, response: r, idempotencyKey })} />
              ))
            : null}
          <button type="button" className="btn btn-ghost btn-sm" onClick={onHide}>
            Hide
          </button>
        </span>
      </div>
    </div>
  );
};

/**
 * RMF's alerts as pop-ups on every robots page: unanswered ones that ask to be displayed,
 * newest first, with their responses as buttons (robots.command); viewers read them only.
 * Hiding one is this browser's choice; answering it is everyone's.
 */
export const AlertPopups = () => {
  const { can } = useMe();
  const { alerts } = useRobotsSite();
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  // Warnings and errors pop up while unanswered; information (a task completed) only when it is new.
  const [since] = useState(() => Date.now() - NEW_FOR_MS);
  const open = [...alerts.values()]
    .filter((a) => a.display && !a.response && !hidden.has(a.id) && (a.tier !== "info" || a.unix_millis_alert_time >= since))
    .sort((a, b) => b.unix_millis_alert_time - a.unix_millis_alert_time);
  if (open.length === 0) return null;
  return (
    <section className="alert-stack" aria-label="Robot alerts" data-testid="robot-alerts">
      {open.slice(0, SHOWN).map((a) => (
        <AlertCard key={a.id} alert={a} canRespond={can("robots.command")} onHide={() => setHidden((h) => new Set([...h, a.id]))} />
      ))}
      {open.length > SHOWN ? <p className="alert alert-info">{open.length - SHOWN} more alerts wait behind these.</p> : null}
    </section>
  );
};
