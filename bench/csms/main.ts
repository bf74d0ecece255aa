import { randomBytes } from "node:crypto";
import os from "node:os";
import { opts } from "./args";
import { collectReports, forkLoads, startFlooder } from "./drive";
import { noViewFeed, openMqttObserver, openViewFeed } from "./feeds";
import { createSampler, waitQuiet } from "./procstat";
import { fmt1, report } from "./report";
import { createDatabase, log, pidsWithCmdline, runDir, runId, shutdown, startBroker, startGateways, startManagers } from "./topology";

/**
 * `npm run bench:csms -- --stations N [--gateways G] [--managers M] [--load-procs P]
 *   [--broker embedded|mosquitto|mqtt://…] [--db pglite|postgres://…] [--duration S] …`
 * (`--help` for all options; args.ts).
 *
 * Starts broker (optional), M managers and G gateways as separate processes on free ports
 * (topology.ts), forks P load generators (drive.ts, load.ts), measures station call latency,
 * station event → console view (SSE) latency, CPU and RSS per process, checks that every call
 * was answered once and handled by exactly one manager, prints the tables (report.ts) and
 * kills everything it started. See bench/RESULTS.md.
 */

const { N, P, G, M, cfg, inlineManager } = opts;

const main = async () => {
  const busyBefore = await waitQuiet(opts.quietWaitSec, log);
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const prefix = `bench-${runId.replace(/[^A-Za-z0-9-]/g, "")}`;
  const apiToken = randomBytes(24).toString("hex");
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: opts.logLevel, NODE_ENV: "production" };
  delete baseEnv.DATABASE_URL;
  log(`run ${runId}: N=${N} gateways=${G} managers=${M}${inlineManager ? " (inline)" : ""} load-procs=${P} broker=${opts.broker} db=${opts.db} ramp=${cfg.rampPerSec}/s duration=${cfg.durationSec}s; logs in ${runDir}`);

  const broker = await startBroker(opts.broker, baseEnv);
  const { databaseUrl, pgDbName } = inlineManager ? { databaseUrl: undefined, pgDbName: undefined } : await createDatabase(opts.db);
  const mqttEnv = { MQTT_URL: broker.url, CSMS_TOPIC_PREFIX: prefix };
  const managers = await startManagers({
    count: M,
    inline: inlineManager,
    env: {
      ...baseEnv,
      ...mqttEnv,
      CSMS_SHARE_GROUP: "manager",
      CSMS_API_TOKEN: apiToken,
      CSMS_ACCEPT_UNKNOWN_TOKENS: "1",
      CSMS_HEARTBEAT_INTERVAL_SEC: String(cfg.heartbeatSec),
      SWITCHYARD_DATA_DIR: `${runDir}/data`,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
  });
  const gateways = await startGateways({ count: G, managers, env: { ...baseEnv, ...mqttEnv } });

  // The console's view (any manager's feed carries every manager's changes), and optionally a plain MQTT observer.
  const view = inlineManager ? noViewFeed() : openViewFeed(managers[0].url, apiToken);
  await view.ready;
  const observer = opts.observeMqtt || inlineManager ? await openMqttObserver(broker.url, prefix) : undefined;

  const loads = await forkLoads({
    N,
    P,
    urls: gateways.map((g) => g.url),
    env: baseEnv,
    workload: {
      ratio16: cfg.ratio16,
      rampPerSec: cfg.rampPerSec,
      steadyMs: cfg.durationSec * 1000,
      heartbeatSec: cfg.heartbeatSec,
      statusEverySec: cfg.statusEverySec,
      txFraction: cfg.txFraction,
      txSec: cfg.txSec,
      meterSec: cfg.meterSec,
      callTimeoutMs: cfg.callTimeoutMs,
    },
  });

  const sampler = createSampler({
    gateway: () => gateways.map((g) => g.pid),
    ...Object.fromEntries(gateways.map((g) => [g.name, () => [g.pid]])),
    manager: () => managers.map((m) => m.pid),
    ...Object.fromEntries(managers.map((m) => [m.name, () => [m.pid]])),
    broker: () => (broker.pid ? [broker.pid] : []),
    load: () => loads.map((l) => l.proc.pid!).filter(Boolean),
    ...Object.fromEntries(loads.map((l, p) => [`load${p}`, () => (l.proc.pid ? [l.proc.pid] : [])])),
    bench: () => [process.pid],
    // PostgreSQL backends serving the run's database (their process title names it).
    postgres: () => (pgDbName ? pidsWithCmdline(pgDbName) : []),
  });

  const t0 = Date.now() + 500;
  const rampMs = (N / cfg.rampPerSec) * 1000;
  log(`go: ramp ${fmt1(rampMs / 1000)} s, then steady ${cfg.durationSec} s`);
  for (const l of loads) l.proc.send({ type: "go", t0 });
  const flooder = opts.flood ? startFlooder(gateways[0].url) : undefined;
  setTimeout(() => sampler.start(), 500);

  // Progress, and the hard deadline.
  const progress = setInterval(() => {
    const s = view.counts;
    log(`t+${fmt1((Date.now() - t0) / 1000)} s: view has ${view.known.size} stations, ${s.events} events${view.state().error ? ` (feed: ${view.state().error})` : ""}`);
  }, 10_000);
  const reports = await collectReports(loads, rampMs + cfg.durationSec * 1000 + 120_000);
  clearInterval(progress);
  const floodReport = await flooder?.stop();
  // Let the feed catch up with the last status changes (bounded).
  const tailDeadline = Date.now() + 5000;
  let lastEvents = -1;
  while (Date.now() < tailDeadline && view.counts.events !== lastEvents) {
    lastEvents = view.counts.events;
    await new Promise((r) => setTimeout(r, 1000));
  }
  sampler.stop();

  await report({
    o: opts,
    t0,
    reports,
    view,
    observerArrivals: observer?.arrivals,
    managers,
    gateways,
    apiToken,
    sampler,
    brokerLabel: broker.label,
    privateBroker: broker.private,
    pgDbName,
    busyBefore,
    loadBefore,
    floodReport,
  });
  view.close();
  await observer?.close();
};

main()
  .then(async () => {
    await shutdown();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    log(`logs: ${runDir}`);
    await shutdown();
    process.exit(1);
  });
