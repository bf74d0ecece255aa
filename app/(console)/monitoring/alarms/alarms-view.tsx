"use client";

import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { ALARM_SEVERITIES } from "@/contracts/monitoring";
import { useMe } from "../../_components/session";
import { FilterBar, optionsOf, SelectFilter, TextFilter } from "../../_components/ui/filters";
import { countText, nextCursor, usePagedList } from "../../_components/ui/paged-list";
import { oneOf, useUrlState } from "../../_components/ui/url-state";
import { AlarmTable } from "../_components/alarm-table";
import { SEVERITY_LABELS } from "../_components/monitoring-badges";
import { MonitoringHeader } from "../_components/monitoring-header";
import { useLiveAlarms } from "../_components/use-live-monitoring";

const STATUSES = ["active", "cleared", "all"] as const;
const STATUS_LABELS: Record<(typeof STATUSES)[number], string> = { active: "Active", cleared: "Cleared", all: "Active and cleared" };
const FILTERS = ["status", "severity", "region", "site", "device"] as const;

/**
 * Alarms of the user's regions, newest first: filters in the URL, keyset paging across
 * regions, acknowledge / clear with a comment. The list follows the live alarm feed: an
 * alarm raised, acknowledged or cleared anywhere shows here without a reload.
 */
export const AlarmsView = () => {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user, can } = useMe();
  const url = useUrlState(FILTERS);
  const status = oneOf(STATUSES, url.values.status) ?? "active";
  const severity = oneOf(ALARM_SEVERITIES, url.values.severity);
  const region = url.values.region || undefined;
  const input = { status, severity, region, site: url.values.site.trim() || undefined, device: url.values.device.trim() || undefined, limit: 50 };
  const list = usePagedList(useInfiniteQuery(trpc.monitoring.alarms.list.infiniteQueryOptions(input, { getNextPageParam: nextCursor })));

  // The live feed carries the active alarms; any change re-reads the list (at most once a second).
  const live = useLiveAlarms(region ? { region } : undefined);
  const seen = useRef(0);
  useEffect(() => {
    if (!live.received) return;
    seen.current += 1;
    if (seen.current === 1) return;
    const timer = setTimeout(() => void queryClient.invalidateQueries(trpc.monitoring.alarms.list.pathFilter()), 1000);
    return () => clearTimeout(timer);
  }, [live.items, live.received, queryClient, trpc]);
  // Until then, the live copy of a listed alarm is the newer one.
  const rows = useMemo(() => list.rows.map((a) => live.items.get(a.id) ?? a), [list.rows, live.items]);

  return (
    <>
      <MonitoringHeader title="Alarms" description={`Alarms of your regions, newest first.${can("monitoring.command") ? " Acknowledge to take ownership; clear to end one." : ""}`} live={live.state} />
      <div className="section">
        <FilterBar label="Filter alarms" onClear={url.clear} canClear={url.any}>
          <SelectFilter label="Status" value={url.values.status} onChange={(v) => url.set({ status: v === "active" ? null : v })} options={STATUSES.map((s) => ({ value: s === "active" ? "" : s, label: STATUS_LABELS[s] }))} testId="filter-status" />
          <SelectFilter label="Severity" value={severity ?? ""} onChange={(v) => url.set({ severity: v })} options={optionsOf("Any severity", ALARM_SEVERITIES, (s) => SEVERITY_LABELS[s])} testId="filter-severity" />
          <SelectFilter label="Region" value={region ?? ""} onChange={(v) => url.set({ region: v })} options={optionsOf("All your regions", user.regions)} testId="filter-region" />
          <TextFilter label="Site" value={url.values.site} onChange={(site) => url.set({ site })} placeholder="Site id…" testId="filter-site" />
          <TextFilter label="Device" value={url.values.device} onChange={(device) => url.set({ device })} placeholder="Device id…" testId="filter-device" />
        </FilterBar>
      </div>
      <AlarmTable
        label="Alarms"
        alarms={rows}
        status={list.status}
        paging={list.paging}
        withSite
        sortParam={false}
        empty={url.any ? { title: "No alarm matches these filters", hint: "Try other filters, or include cleared alarms." } : { title: "No active alarms", hint: "Everything in your regions is within its alarm rules." }}
        foot={<span data-testid="alarms-count">{countText(rows.length, undefined, "alarm", "alarms")}</span>}
        testId="alarms-table"
      />
    </>
  );
};
