"use client";

import { useState } from "react";
import type { CommandView } from "@/contracts/console/commands";
import { CommandStatusBadge } from "../badges";
import { formatDateTime } from "../format";
import { describeCommand } from "./command-outcome";
import { Dialog } from "./dialog";
import { ResultFields } from "./result-fields";

/** Everything about one command in words: outcome, what was asked, what came back (as fields). */
export const CommandDetails = ({ command: c }: { command: CommandView }) => {
  const params = (c.payload as { params?: unknown } | null)?.params ?? c.payload;
  return (
    <div data-testid="command-details" data-status={c.status}>
      <p className="status-line">
        <CommandStatusBadge status={c.status} /> <span data-testid="command-details-outcome">{describeCommand(c).text}</span>
      </p>
      <dl className="kv" style={{ marginTop: 10 }}>
        <dt>Target</dt>
        <dd className="mono">{c.target}</dd>
        <dt>Action</dt>
        <dd>{c.action}</dd>
        <dt>By</dt>
        <dd>{c.actorEmail}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(c.createdAt)}</dd>
        <dt>Completed</dt>
        <dd>{c.completedAt ? formatDateTime(c.completedAt) : "—"}</dd>
        {c.error ? (
          <>
            <dt>Error</dt>
            <dd className="break">{c.error}</dd>
          </>
        ) : null}
      </dl>
      <h3 style={{ marginTop: 14 }}>Parameters</h3>
      <ResultFields result={params} testId="command-params" />
      <h3 style={{ marginTop: 14 }}>Answer</h3>
      {c.result ? <ResultFields result={c.result} /> : <p className="muted">No answer {c.status === "pending" || c.status === "sent" ? "yet" : "was recorded"}.</p>}
    </div>
  );
};

/** A "Details" button that opens CommandDetails in a dialog. */
export const CommandDetailsButton = ({ command, label = "Details" }: { command: CommandView; label?: string }) => {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="btn btn-sm" onClick={() => setOpen(true)} data-testid={`command-details-${command.id}`}>
        {label}
      </button>
      {open ? (
        <Dialog title={`${command.action} → ${command.target}`} onClose={() => setOpen(false)} testId="command-details-dialog">
          <div className="dialog-body">
            <CommandDetails command={command} />
          </div>
          <div className="dialog-foot">
            <button type="button" className="btn btn-primary" onClick={() => setOpen(false)} data-autofocus>
              Close
            </button>
          </div>
        </Dialog>
      ) : null}
    </>
  );
};
