import { appendFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Opts } from "./args";
import { type Arrival, matchLatencies, type ViewFeed } from "./feeds";
import { Histogram } from "./hist";
import type { LoadReport, StatusSend } from "./load";
import type { createSampler, Usage } from "./procstat";
import { runDir, runId, type Service } from "./topology";

/**
 * The numbers of one bench:csms run: merges the load generators' reports, scrapes every
 * gateway's and manager's /metrics, checks "every message handled once", prints the tables
 * and writes result.json (and the --json-out line that bench/csms/table.ts turns into Markdown).
 */

export const fmtMs = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : "–");
export const fmt1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");

/** A /metrics text, or undefined when the process did not answer in time (overloaded: not the same as 0). */
const scrape = async (url: string) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
};
const sumMetric = (text: string, name: string, filter?: RegExp) =>
  text
    .split("\n")
    .filter((l) => l.startsWith(name) && (l[name.length] === " " || l[name.length] === "{") && (!filter || filter.test(l)))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

const managerMeans = (texts: string[]) => {
  const actions = new Set(texts.flatMap((t) => [...t.matchAll(/^csms_manager_call_duration_seconds_count\{action="([^"]+)"\} /gm)].map((x) => x[1])));
  const sum = (name: string, filter: RegExp) => texts.reduce((n, t) => n + sumMetric(t, name, filter), 0);
  if (!actions.size) return "–";
  return [...actions]
    .map((action) => {
      const f = new RegExp(`action="${action}"`);
      return `${action} ${fmtMs((sum("csms_manager_call_duration_seconds_sum", f) / sum("csms_manager_call_duration_seconds_count", f)) * 1000)} ms`;
    })
    .join(", ");
};

export const aggregate = (reports: LoadReport[]) => {
  const merged: Record<string, Histogram> = {};
  const counters: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  const perSecond: number[] = [];
  const sends: StatusSend[] = [];
  const agg = { firstSendAt: Infinity, lastAnswerAt: 0, lastBootedAt: 0, connected: 0, booted: 0, lagP99: 0, lagMax: 0 };
  for (const r of reports) {
    for (const [k, d] of Object.entries(r.hist)) (merged[k] ??= new Histogram()).add(d);
    for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.errorCodes)) errorCodes[k] = (errorCodes[k] ?? 0) + v;
    r.perSecond.forEach((n, i) => (perSecond[i] = (perSecond[i] ?? 0) + (n ?? 0)));
    for (const s of r.statusSends) sends.push(s);
    if (r.firstSendAt) agg.firstSendAt = Math.min(agg.firstSendAt, r.firstSendAt);
    agg.lastAnswerAt = Math.max(agg.lastAnswerAt, r.lastAnswerAt);
    agg.lastBootedAt = Math.max(agg.lastBootedAt, r.lastBootedAt);
    agg.connected += r.connected;
    agg.booted += r.booted;
    agg.lagP99 = Math.max(agg.lagP99, r.loopLag.p99);
    agg.lagMax = Math.max(agg.lagMax, r.loopLag.max);
  }
  return { merged, counters, errorCodes, perSecond, sends, ...agg };
};

type Sampler = ReturnType<typeof createSampler>;
export type RunContext = {
  o: Opts;
  t0: number;
  reports: LoadReport[];
  view: ViewFeed;
  observerArrivals?: Map<string, Arrival[]>;
  managers: Service[];
  gateways: (Service & { httpUrl: string })[];
  apiToken: string;
  sampler: Sampler;
  brokerLabel: string;
  privateBroker: boolean;
  pgDbName?: string;
  busyBefore: number;
  loadBefore: string;
  floodReport?: Record<string, number>;
};

const count = async (url: string, token: string, query: string) =>
  // Bounded: an overloaded manager must not keep the report from being printed.
  fetch(`${url}/api/v0/stations?limit=1${query}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) })
    .then((r) => r.json() as Promise<{ total?: number }>)
    .then((j) => j.total ?? NaN)
    .catch(() => NaN);

const cpu = (u: Usage) => `${fmt1(u.cpuAvg)}/${fmt1(u.cpuMax)}`;
const usageRow = (u: Usage) => ({ "CPU% avg": fmt1(u.cpuAvg), "CPU% max": fmt1(u.cpuMax), "RSS MB avg": fmt1(u.rssAvgMb), "RSS MB max": fmt1(u.rssMaxMb) });

export const report = async (c: RunContext) => {
  const { o, sampler } = c;
  const { N, P, G, M, cfg, inlineManager } = o;
  const a = aggregate(c.reports);
  const { merged, counters } = a;
  const all = merged.all ?? new Histogram();
  const steady = merged.steady ?? new Histogram();
  const m = c.observerArrivals ? matchLatencies(a.sends, c.observerArrivals) : undefined;
  // Without the real manager there is no console feed: the view column shows station → MQTT in/.
  const v = inlineManager && m ? m : matchLatencies(a.sends, c.view.arrivals);

  // Every gateway's and manager's own counters.
  const gwScraped = await Promise.all(c.gateways.map((g) => scrape(`${g.httpUrl}/metrics`)));
  const mgrScraped = inlineManager ? [] : await Promise.all(c.managers.map((mg) => scrape(`${mg.url}/metrics`)));
  const unscraped = [...gwScraped.map((t, i) => (t === undefined ? c.gateways[i].name : "")), ...mgrScraped.map((t, i) => (t === undefined ? c.managers[i].name : ""))].filter(Boolean);
  const gwMetrics = gwScraped.map((t) => t ?? "");
  const mgrMetrics = mgrScraped.map((t) => t ?? "");
  const gwSum = (name: string, filter?: RegExp) => gwMetrics.reduce((n, t) => n + sumMetric(t, name, filter), 0);
  const handled = mgrMetrics.map((t) => sumMetric(t, "csms_manager_station_calls_total"));
  const repeated = mgrMetrics.map((t) => sumMetric(t, "csms_manager_repeated_calls_total"));
  const gwCallsIn = gwSum("csms_gateway_frames_total", /direction="in".*type="call"|type="call".*direction="in"/);
  const gwRateLimited = gwSum("csms_gateway_rate_limited_total");
  const reachedManagers = gwCallsIn - gwRateLimited;
  const handledSum = handled.reduce((x, y) => x + y, 0);
  const sent = counters.sent ?? 0;
  const answered = counters.answered ?? 0;
  const duplicates = counters.duplicateAnswers ?? 0;
  const once = !unscraped.length && answered === sent && duplicates === 0 && (inlineManager || (handledSum === reachedManagers && handled.every((n) => n > 0 || M === 1)));
  const api = c.managers[0];
  const stationsTotal = inlineManager ? NaN : await count(api.url, c.apiToken, "");
  const onlineTotal = inlineManager ? NaN : await count(api.url, c.apiToken, "&online=true");

  const gw = sampler.usage("gateway");
  const mg = sampler.usage("manager");
  const br = sampler.usage("broker");
  const ld = sampler.usage("load");
  const machine = sampler.machine();
  const cores = os.cpus().length;
  const pgUsage = sampler.usage("postgres");
  const ours = [gw, mg, ld, sampler.usage("bench"), pgUsage, ...(c.privateBroker ? [br] : [])].reduce((n, u) => n + (Number.isFinite(u.cpuAvg) ? u.cpuAvg : 0), 0);
  const othersCpu = Math.max(0, machine.avg * cores - ours - (c.privateBroker ? 0 : Number.isFinite(br.cpuAvg) ? br.cpuAvg : 0));
  const windowSec = (a.lastAnswerAt - a.firstSendAt) / 1000;
  const errors = (counters.callErrors ?? 0) + (counters.connectFailed ?? 0) + (counters.unexpectedCloses ?? 0);
  const timeouts = (counters.timeouts ?? 0) + (counters.unansweredAtEnd ?? 0);

  const row = {
    N,
    "gw/mgr/load": `${G}/${M}/${P}`,
    booted: `${a.booted}/${N}`,
    "all booted (s)": fmt1((a.lastBootedAt - c.t0) / 1000),
    "calls sent": sent,
    answers: answered,
    dup: duplicates,
    "handled per manager": inlineManager ? "– (inline)" : mgrScraped.map((t, i) => (t === undefined ? "?" : handled[i])).join(" / "),
    once: once ? "yes" : "NO",
    "calls/s": Math.round(all.count / windowSec),
    "peak calls/s": Math.max(0, ...a.perSecond.map((x) => x ?? 0)),
    "p50 ms": fmtMs(all.quantile(0.5)),
    "p95 ms": fmtMs(all.quantile(0.95)),
    "p99 ms": fmtMs(all.quantile(0.99)),
    "max ms": fmtMs(all.max),
    "view p50 ms": fmtMs(v.hist.quantile(0.5)),
    "view p99 ms": fmtMs(v.hist.quantile(0.99)),
    "err/timeout": `${errors}/${timeouts}`,
    "gw CPU% avg/max": cpu(gw),
    "gw RSS MB max": fmt1(gw.rssMaxMb),
    "mgr CPU% avg/max": cpu(mg),
    "mgr RSS MB max": fmt1(mg.rssMaxMb),
    "load lag p99/max ms": `${fmtMs(a.lagP99)}/${fmtMs(a.lagMax)}`,
  };

  const detail = {
    connect: merged.connect,
    "connect+boot": merged.connectBoot,
    "all calls": all,
    "ramp calls": merged.ramp,
    "steady calls": steady,
    ...Object.fromEntries(Object.entries(merged).filter(([k]) => k.startsWith("action:")).map(([k, h]) => [k.slice(7), h])),
    [inlineManager ? "status → MQTT in (observer; no manager feed)" : "status → SSE view"]: v.hist,
    ...(m && !inlineManager ? { "status → MQTT in (observer)": m.hist } : {}),
  };
  const detailRows = Object.fromEntries(
    Object.entries(detail)
      .filter(([, h]) => h && h.count)
      .map(([k, h]) => [k, { count: h!.count, "p50 ms": fmtMs(h!.quantile(0.5)), "p95 ms": fmtMs(h!.quantile(0.95)), "p99 ms": fmtMs(h!.quantile(0.99)), "max ms": fmtMs(h!.max) }]),
  );

  const stack = inlineManager ? "INLINE test responder (no manager, no db; view = MQTT in/)" : `${M} manager(s) + db ${o.db}`;
  process.stdout.write(`\nSwitchyard CSMS benchmark — ${N} stations, ${G} gateway(s), ${P} load process(es), broker ${c.brokerLabel}, ${stack}, ramp ${cfg.rampPerSec}/s, steady ${cfg.durationSec} s\n`);
  console.table([row]);
  process.stdout.write("\nLatency detail (station send → answer unless noted):\n");
  console.table(detailRows);
  process.stdout.write("\nProcesses (CPU% of one core, sampled every second during the run):\n");
  const loadProcs = Array.from({ length: P }, (_, p) => sampler.usage(`load${p}`));
  console.table({
    [`gateways ×${G} (sum)`]: usageRow(gw),
    ...Object.fromEntries(c.gateways.map((g) => [`  ${g.name} (pid ${g.pid})`, usageRow(sampler.usage(g.name))])),
    [`${inlineManager ? "inline responder" : `managers ×${M} (sum)`}`]: usageRow(mg),
    ...(M > 1 ? Object.fromEntries(c.managers.map((x) => [`  ${x.name} (pid ${x.pid})`, usageRow(sampler.usage(x.name))])) : {}),
    [`broker: ${c.brokerLabel}`]: usageRow(br),
    ...(c.pgDbName ? { "postgres backends (run's db)": usageRow(pgUsage) } : {}),
    [`load generators ×${P} (sum)`]: usageRow(ld),
    "  busiest load generator": { "CPU% avg": fmt1(Math.max(...loadProcs.map((u) => u.cpuAvg))), "CPU% max": fmt1(Math.max(...loadProcs.map((u) => u.cpuMax))), "RSS MB avg": "", "RSS MB max": fmt1(Math.max(...loadProcs.map((u) => u.rssMaxMb))) },
    [`machine (% of all ${cores} cores)`]: { "CPU% avg": fmt1(machine.avg), "CPU% max": fmt1(machine.max), "RSS MB avg": "", "RSS MB max": "" },
    "other processes (not ours, approx.)": { "CPU% avg": fmt1(othersCpu), "CPU% max": "", "RSS MB avg": "", "RSS MB max": "" },
  });
  const facts: Record<string, string | number> = {
    "machine busy before start (3 s)": `${c.busyBefore.toFixed(0)} %`,
    "load average before / after": `${c.loadBefore} / ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    topology: `${G} gateway(s) [${c.gateways.map((g) => `${g.name} pid ${g.pid}`).join(", ")}], ${M} ${inlineManager ? "inline responder" : "manager(s)"} [${c.managers.map((x) => `${x.name} pid ${x.pid}`).join(", ")}], ${P} load process(es)`,
    stations: N,
    connected: a.connected,
    booted: a.booted,
    "in manager (total / online)": `${stationsTotal} / ${onlineTotal}`,
    "in SSE view": c.view.known.size,
    ...(unscraped.length ? { "/metrics not answered within 15 s (counts below read 0 for them)": unscraped.join(", ") } : {}),
    "calls sent / answered / duplicate answers / late answers (after timeout) / unmatched": `${sent} / ${answered} / ${duplicates} / ${counters.lateAnswers ?? 0} / ${counters.unmatchedAnswers ?? 0}`,
    "station calls at the gateways (in) / rate-limited there / reached the managers": `${gwCallsIn} / ${gwRateLimited} / ${reachedManagers}`,
    "handled per manager (csms_manager_station_calls_total) / sum / repeats not handled again": inlineManager ? "– (inline responder has no metrics)" : `${handled.join(" + ")} = ${handledSum} / ${repeated.join(" + ")}`,
    "every message handled once (answers = calls, 0 duplicates, handled sum = reached managers, every manager a share)": once ? "yes" : "NO",
    // A gateway re-publishes a CALL unanswered after CSMS_STATION_CALL_RETRY_MS; a manager only knows its own recent calls.
    "handled twice (gateway retries that a different manager handled again) / retries seen again by the same manager": inlineManager ? "–" : `${Math.max(0, handledSum - reachedManagers)} / ${repeated.reduce((x, y) => x + y, 0)}`,
    "load generators' event-loop delay, worst process p99 / max": `${fmtMs(a.lagP99)} / ${fmtMs(a.lagMax)} ms`,
    "steady calls/s": Math.round(steady.count / cfg.durationSec),
    "status changes measured / not seen in view": `${v.hist.count} / ${v.missing}`,
    "SSE events (station/transaction/meter/resync)": `${c.view.counts.station}/${c.view.counts.transaction}/${c.view.counts.meter}/${c.view.counts.resync}`,
    "feed state": c.view.state().error ?? (c.view.state().connected ? "connected" : "closed"),
    counters: JSON.stringify(counters),
    "CALLERROR codes": JSON.stringify(a.errorCodes),
    "gateway rate-limited / timeouts / bad frames / retries": `${gwRateLimited} / ${gwSum("csms_gateway_call_timeouts_total")} / ${gwSum("csms_gateway_bad_frames_total")} / ${gwSum("csms_gateway_station_call_retries_total")}`,
    "manager batch errors": mgrMetrics.reduce((n, t) => n + sumMetric(t, "csms_manager_batch_errors_total"), 0),
    "gateway round trip mean (station→manager→station at the gateway)": `${fmtMs((gwSum("csms_gateway_call_duration_seconds_sum", /origin="station"/) / gwSum("csms_gateway_call_duration_seconds_count", /origin="station"/)) * 1000)} ms`,
    "manager handling mean by action (receive → publish answer, excl. per-station queue; all managers)": managerMeans(mgrMetrics),
  };
  if (c.floodReport) facts["flooding station"] = `sent ${c.floodReport.sent}, answered ${c.floodReport.answered}, refused SecurityError ${c.floodReport.refused}, disconnected ${c.floodReport.disconnects}×`;
  process.stdout.write("\nRun facts:\n");
  for (const [k, val] of Object.entries(facts)) process.stdout.write(`  ${k}: ${String(val)}\n`);
  process.stdout.write(`  logs: ${runDir}\n`);

  const result = {
    runId,
    at: new Date().toISOString(),
    args: process.argv.slice(2),
    config: { N, P, G, M, broker: c.brokerLabel, db: o.db, manager: o.manager, ...cfg },
    row,
    detail: detailRows,
    usage: { gateway: gw, manager: mg, broker: br, load: ld, postgres: pgUsage, machine, othersCpu },
    once: { sent, answered, duplicates, handled, repeated, unscraped, gwCallsIn, gwRateLimited, gwRetries: gwSum("csms_gateway_station_call_retries_total"), reachedManagers, ok: once },
    facts,
    perSecond: a.perSecond,
    series: sampler.series(),
  };
  writeFileSync(path.join(runDir, "result.json"), JSON.stringify(result, null, 2));
  if (o.jsonOut) appendFileSync(path.resolve(o.jsonOut), `${JSON.stringify(result)}\n`);
};
