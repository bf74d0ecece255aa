"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { Phase, TaskState } from "@/contracts/rmf";
import { formatDateTime, formatDuration, summarize } from "../../../_components/format";
import { useMe } from "../../../_components/session";
import { Card } from "../../../_components/ui/card";
import { CommandButton } from "../../../_components/ui/command-button";
import { errorMessage } from "../../../_components/ui/messages";
import { PageHeader } from "../../../_components/ui/page-header";
import { RmfLinkAlerts, RmfStatusLine } from "../../_components/link-alerts";
import { TaskStatusBadge } from "../../_components/robot-badges";
import { RmfText, rmfPlain } from "../../_components/rmf-text";
import { RobotsNav } from "../../_components/robots-nav";
import { useLiveTasks } from "../../_components/use-robots";

/** RMF log tiers (uninitialized, info, warning, error) as badges. */
const TIER_BADGE: Record<string, string> = { info: "badge-info", warning: "badge-warn", error: "badge-danger" };

const FINISHED = new Set(["failed", "skipped", "canceled", "killed", "completed"]);

const phaseState = (task: TaskState, id: number) => (task.completed?.includes(id) ? "completed" : task.active === id ? "active" : "pending");
const describeDetail = (detail: unknown) => (typeof detail === "string" ? detail : detail ? summarize(detail, 120) : "");

const Phases = ({ task }: { task: TaskState }) => {
  const phases = Object.values(task.phases ?? {}).sort((a: Phase, b: Phase) => a.id - b.id);
  if (phases.length === 0) return <p className="muted">RMF has not planned the phases of this task yet.</p>;
  return (
    <ol className="phase-list" aria-label="Phases" data-testid="task-phases">
      {phases.map((p) => {
        const state = phaseState(task, p.id);
        return (
          <li key={p.id} data-state={state} data-testid={`phase-${p.id}`}>
            <strong>
              {p.id}. <RmfText text={p.category ?? "Phase"} />
            </strong>{" "}
            <span className="muted">{state === "completed" ? "done" : state === "active" ? "in progress" : "to do"}</span>
            {describeDetail(p.detail) ? (
              <div>
                <RmfText text={describeDetail(p.detail)} />
              </div>
            ) : null}
            <div className="muted">
              {p.unix_millis_start_time ? `started ${formatDateTime(p.unix_millis_start_time)}` : ""}
              {p.unix_millis_finish_time ? ` · finished ${formatDateTime(p.unix_millis_finish_time)}` : ""}
              {state !== "completed" && p.estimate_millis ? ` · about ${formatDuration(p.estimate_millis)} left` : ""}
            </div>
          </li>
        );
      })}
    </ol>
  );
};

/** The log of the last hour, read again whenever the task changes. */
const TaskLog = ({ taskId, version }: { taskId: string; version: string }) => {
  const trpc = useTRPC();
  const log = useQuery(trpc.robots.tasks.log.queryOptions({ taskId }));
  const { refetch } = log;
  useEffect(() => {
    void refetch();
  }, [version, refetch]);
  if (log.error) return <p className="field-error">Could not load the log: {errorMessage(log.error)}</p>;
  if (!log.data) return <p className="muted">Loading the log…</p>;
  const entries = [
    ...(log.data.log ?? []).map((e) => ({ ...e, where: "task" })),
    ...Object.entries(log.data.phases ?? {}).flatMap(([phase, p]) => [
      ...(p.log ?? []).map((e) => ({ ...e, where: `phase ${phase}` })),
      ...Object.entries(p.events ?? {}).flatMap(([event, list]) => list.map((e) => ({ ...e, where: `phase ${phase}, event ${event}` }))),
    ]),
  ].sort((a, b) => a.unix_millis_time - b.unix_millis_time || a.seq - b.seq);
  if (entries.length === 0) return <p className="muted">Nothing logged in the last hour.</p>;
  return (
    <div className="table-wrap" style={{ maxHeight: 320, overflow: "auto" }}>
      <table className="data" aria-label="Task log" data-testid="task-log">
        <thead>
          <tr>
            <th>Time</th>
            <th>Where</th>
            <th>Level</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e, i) => (
            <tr key={`${e.where}-${e.seq}-${i}`}>
              <td className="nowrap">{formatDateTime(e.unix_millis_time)}</td>
              <td className="nowrap">{e.where}</td>
              <td>
                <span className={`badge ${TIER_BADGE[e.tier] ?? ""}`}>{e.tier}</span>
              </td>
              <td>
                <RmfText text={e.text} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};

/** One task: status, robot, phases timeline and log, live; cancel and kill (both asked first). */
export const TaskView = ({ taskId }: { taskId: string }) => {
  const trpc = useTRPC();
  const { can } = useMe();
  const first = useQuery(trpc.robots.tasks.get.queryOptions({ taskId }, { retry: false }));
  const live = useLiveTasks(taskId);
  const task = live.items.get(taskId) ?? first.data;
  const cancel = useMutation(trpc.robots.tasks.cancel.mutationOptions());
  const kill = useMutation(trpc.robots.tasks.kill.mutationOptions());

  if (!task) {
    return (
      <>
        <PageHeader title={`Task ${taskId}`} />
        <RobotsNav />
        {first.error ? (
          <div className="empty" role="alert" data-testid="task-error">
            <strong>{errorMessage(first.error)}</strong>
            <Link href="/robots/tasks">Back to the task queue</Link>
          </div>
        ) : (
          <div className="empty" role="status">
            Loading the task…
          </div>
        )}
      </>
    );
  }
  const finished = FINISHED.has(task.status ?? "");
  const robot = task.assigned_to ? `${task.assigned_to.group}/${task.assigned_to.name}` : null;
  return (
    <>
      <PageHeader
        title={
          <>
            Task <span className="mono">{taskId}</span>
          </>
        }
        description={task.category ? `A ${rmfPlain(task.category)} task${task.booking.requester ? ` requested by ${task.booking.requester}` : ""}.` : undefined}
        actions={<RmfStatusLine state={live.state} />}
      />
      <RobotsNav />
      <RmfLinkAlerts />
      <section className="section grid-2" aria-label="Task">
        <div className="card">
          <div className="card-body">
            <dl className="kv" data-testid="task-summary">
              <dt>Status</dt>
              <dd data-testid="task-status">
                <TaskStatusBadge status={task.status} />
              </dd>
              <dt>Robot</dt>
              <dd>{robot ?? "not assigned yet"}</dd>
              <dt>Requested</dt>
              <dd>{formatDateTime(task.booking.unix_millis_request_time) || "—"}</dd>
              <dt>Started</dt>
              <dd>{formatDateTime(task.unix_millis_start_time) || "—"}</dd>
              <dt>Finished</dt>
              <dd>{formatDateTime(task.unix_millis_finish_time) || "—"}</dd>
              {!finished && task.estimate_millis ? (
                <>
                  <dt>Remaining</dt>
                  <dd>about {formatDuration(task.estimate_millis)}</dd>
                </>
              ) : null}
              {task.dispatch?.errors?.length ? (
                <>
                  <dt>Dispatch errors</dt>
                  <dd>{task.dispatch.errors.map((e) => [e.category, e.detail].filter(Boolean).join(": ")).join("; ")}</dd>
                </>
              ) : null}
            </dl>
          </div>
        </div>
        {can("robots.command") && !finished ? (
          <div className="card">
            <div className="card-body">
              <p className="muted">Cancel lets the robot finish what it is doing safely; kill stops it where it stands.</p>
              <span className="actions">
                <CommandButton
                  id="task-cancel"
                  label="Cancel task"
                  confirm={{ title: "Cancel this task?", body: "RMF cancels the task; its robot stops at a safe point and goes back to its idle behaviour.", confirmLabel: "Cancel task" }}
                  submit={(idempotencyKey) => cancel.mutateAsync({ taskId, idempotencyKey })}
                />
                <CommandButton
                  id="task-kill"
                  label="Kill task"
                  tone="danger"
                  confirm={{ title: "Kill this task?", body: "The robot stops where it stands, even in a doorway or a lift. Use it only when cancelling is not enough.", confirmLabel: "Kill task" }}
                  submit={(idempotencyKey) => kill.mutateAsync({ taskId, idempotencyKey, confirm: true })}
                />
              </span>
            </div>
          </div>
        ) : null}
      </section>
      <Card title="Phases" section>
        <Phases task={task} />
      </Card>
      <Card title="Log" section>
        <TaskLog taskId={taskId} version={`${task.status}-${task.active}-${task.completed?.length ?? 0}`} />
      </Card>
    </>
  );
};
