import { fork, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connectAsync, type MqttClient } from "mqtt";
import type { RegisteredDevice } from "../../contracts/flex/api";
import { canonicalJson } from "../../contracts/flex/canonical";
import type { FlexOffer, FlexRequest, Trade } from "../../contracts/flex/entities";
import { deviceTopics } from "../../contracts/flex/mqtt";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createActivationRouter } from "../../services/flex/activation";
import { runRound } from "../../services/flex/bundler";
import { createSigner, generateNodeKeys, importPrivateKey, importPublicKey, verifyCanonical } from "../../services/flex/signing";
import { rememberingVerifier, signActivationBatch, verifyStatement, type StatementVerifier } from "../../lib/flex/activation-batch";
import { checkActivation } from "../../lib/flex/check-activation";
import { registerFleetDevices } from "../../sim/flex/fleet";
import { adopt, cpuSeconds, f, killAll, percentile, startMosquitto, startNodeProcess } from "./lib";

/**
 * `npm run bench:flex -- [--only a,b,c,d,e] [--devices 10000] [--procs 4] [--duration 10]
 *   [--sizes 10000,100000,1000000] [--verify both|on|solo|sample|off (or a list: on,solo)] [--cpu-prof-dir DIR] [--device-client lean|mqtt.js] [--signal-every S] [--quiet-wait S] [--json-out FILE]`
 *
 * (a) offer updates/s through MQTT into a node's book, beside the bare broker's rate;
 * (b) bundler round time at 10k/100k/1M open offers, beside a bare sort of as many keys;
 * (c) activation latency LFC signal → device ack (and step → ack) with N connected devices
 *     spread over P processes, beside a bare broker fan-out/reply round trip;
 * (d) Ed25519 sign/verify per second over canonical JSON, beside HMAC-SHA256;
 * (e) the node's send path alone, in this process: one step over N devices → when the first
 *     and the last signed setpoint leave, and the longest event-loop stall meanwhile.
 * Every part runs its broker (a private Mosquitto with TCP_NODELAY) and node as processes
 * of their own and kills them afterwards. Prints Markdown tables (bench/RESULTS.md).
 * BENCH_FLEX_PER_SIGNAL=1 also prints (c) per signal and per step, and each device process's
 * time in the device's handler; BENCH_FLEX_DEVICE_NICE sets the device processes' nice level.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    only: { type: "string", default: "a,b,c,d,e" },
    devices: { type: "string", default: "10000" },
    procs: { type: "string", default: "4" },
    duration: { type: "string", default: "10" },
    sizes: { type: "string", default: "10000,100000,1000000" },
    "json-out": { type: "string" },
    "quiet-wait": { type: "string", default: "180" },
    verify: { type: "string", default: "both" },
    "cpu-prof-dir": { type: "string" },
    "device-client": { type: "string", default: "lean" },
    "signal-every": { type: "string", default: "4" },
  },
});
const parts = new Set(values.only!.split(","));
if (!(values.verify === "both" || values.verify!.split(",").every((v) => ["on", "solo", "sample", "off"].includes(v)))) {
  process.stderr.write(`bench:flex: --verify takes both (on,solo), or a list of on, solo, sample, off\n`);
  process.exit(2);
}
if (!["lean", "mqtt.js"].includes(values["device-client"]!)) {
  process.stderr.write(`bench:flex: --device-client takes lean or mqtt.js\n`);
  process.exit(2);
}
/** (c)'s simulated devices talk MQTT through bench/flex/lean-mqtt.ts (default) or mqtt.js. */
const DEVICE_CLIENT = values["device-client"] as "lean" | "mqtt.js";
/**
 * (c)'s device processes run at this nice level (default 10): in the field every device has a
 * CPU of its own, here 10,000 of them share two cores with the node and the broker under test,
 * so they yield to them. They still do all their work; it counts in every latency measured.
 */
const DEVICE_NICE = Number(process.env.BENCH_FLEX_DEVICE_NICE ?? 10);
/**
 * (c): seconds between LFC signal rounds (default 4, the aFRR market's step in
 * reference/flex.md). A signal restarts its trade's 2 s step clock, so at 4 s every device gets
 * a setpoint every 2 s, the source design's cadence; 3 s (the earlier runs) adds a round 1 s
 * after each step.
 */
const SIGNAL_EVERY_S = Number(values["signal-every"]);
const DEVICES = Number(values.devices);
const PROCS = Number(values.procs);
const DURATION_S = Number(values.duration);
/** `--cpu-prof-dir DIR`: part (c)'s node (its whole life) and device processes (the measured window) write V8 CPU profiles there. */
const PROF_ARGS = values["cpu-prof-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(values["cpu-prof-dir"])}`] : [];
// The device processes write theirs with writeFileSync, which needs the directory to exist.
if (values["cpu-prof-dir"]) mkdirSync(path.resolve(values["cpu-prof-dir"]), { recursive: true });
const results: Record<string, Record<string, string | number>[]> = {};
const table = (title: string, rows: Record<string, string | number>[]) => {
  results[title] = rows;
  const cols = Object.keys(rows[0] ?? {});
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  process.stdout.write(`\n### ${title}\n\n${[line(cols), line(cols.map(() => "---")), ...rows.map((r) => line(cols.map((c) => r[c] ?? "")))].join("\n")}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PERIOD = 600_000;
const nextWindow = (periodMs = PERIOD) => (Math.floor(Date.now() / periodMs) + 1) * periodMs;

/** Publishes QoS 0 as fast as the sockets drain, for `seconds`; returns how many. */
const flood = async (clients: MqttClient[], seconds: number, message: (i: number) => [string, string]) => {
  let sent = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (Date.now() < until) {
        for (let k = 0; k < 200; k++) {
          const [topic, payload] = message(sent++);
          c.publish(topic, payload, { qos: 0 });
        }
        // Back-pressure: wait while the socket holds more than 1 MB unsent.
        const stream = (c as unknown as { stream: { writableLength: number } }).stream;
        while (stream.writableLength > 1 << 20) await sleep(1);
        await new Promise((r) => setImmediate(r));
      }
    }),
  );
  return sent;
};

// ---------- (a) offer intake ----------
const benchOffers = async () => {
  const mosq = await startMosquitto();
  const publishers = await Promise.all(Array.from({ length: 4 }, () => connectAsync(mosq.url, { reconnectPeriod: 0 })));
  const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(6, "0")}`);
  const periodFrom = nextWindow();
  const offerMessage = (i: number): [string, string] => [
    deviceTopics(ids[i % ids.length]).offers,
    JSON.stringify({ offerId: "o1", direction: "up", periodFrom, periodTo: periodFrom + 3 * PERIOD, quantityW: 1000 + (i % 3000), unitPrice: 50 + (i % 500) / 10, baselineW: 0 }),
  ];

  // Baseline: the same publishers into a plain subscriber.
  const sub = await connectAsync(mosq.url, { reconnectPeriod: 0 });
  let received = 0;
  sub.on("message", () => received++);
  await sub.subscribeAsync("flex/v1/devices/+/offers", { qos: 0 });
  const mosqCpu0 = cpuSeconds(mosq.pid);
  const t0 = Date.now();
  const sentBase = await flood(publishers, DURATION_S, offerMessage);
  await sleep(500);
  const baseSeconds = (Date.now() - t0) / 1000;
  const baseRow = { "path": "bare broker (publisher → Mosquitto → plain subscriber)", "sent/s": f(sentBase / DURATION_S, 0), "received/s": f(received / baseSeconds, 0), "into book/s": "–", "node CPU %": "–", "broker CPU %": f(((cpuSeconds(mosq.pid) - mosqCpu0) / baseSeconds) * 100, 0) };
  await sub.endAsync(true);

  const node = await startNodeProcess({ FLEX_MQTT_URL: mosq.url, FLEX_GRID_NODES: "gn-1,gn-2,gn-3,gn-4", FLEX_OFFER_RATE: "10000", FLEX_OFFER_BURST: "10000" });
  await registerFleetDevices({ nodeUrl: node.url, token: node.token("fsp-1"), list: ids.map((id, i) => ({ id, kind: "battery", gridNodeId: `gn-${(i % 4) + 1}`, pMinW: -5000, pMaxW: 5000, rampWps: 5000 })) });
  const handled = async () => (await node.metric("flex_offer_messages_total", 'result="accepted"')) + (await node.metric("flex_offer_messages_total", 'result="rejected"'));
  const nodeCpu0 = cpuSeconds(node.pid);
  const mosqCpu1 = cpuSeconds(mosq.pid);
  const h0 = await handled();
  const t1 = Date.now();
  const sent = await flood(publishers, DURATION_S, offerMessage);
  // Let the node drain what the broker still holds for it, then count.
  let last = -1;
  let lastAt = Date.now();
  for (;;) {
    const h = await handled();
    if (h === last) break;
    last = h;
    lastAt = Date.now();
    await sleep(300);
  }
  const seconds = (lastAt - t1) / 1000;
  const accepted = (await node.metric("flex_offer_messages_total", 'result="accepted"'));
  const health = (await (await fetch(`${node.url}/api/v1/health`, { headers: { authorization: `Bearer ${node.token("fsp-1")}` } })).json()) as { offersOpen: number };
  table("(a) offer updates through MQTT into the book", [
    baseRow,
    {
      "path": `flex node (${DEVICES} devices, each revising one offer; schema + limits + book)`,
      "sent/s": f(sent / DURATION_S, 0),
      "received/s": f((last - h0) / seconds, 0),
      "into book/s": f((accepted - h0) / seconds, 0),
      "node CPU %": f(((cpuSeconds(node.pid) - nodeCpu0) / seconds) * 100, 0),
      "broker CPU %": f(((cpuSeconds(mosq.pid) - mosqCpu1) / seconds) * 100, 0),
    },
  ]);
  process.stdout.write(`book: ${health.offersOpen} open offers after ${last - h0} updates (lost in the broker: ${sent - (last - h0)})\n`);
  for (const p of publishers) await p.endAsync(true);
  await node.close();
  await mosq.close();
};

// ---------- (b) bundler ----------
const benchBundler = () => {
  const rows: Record<string, string | number>[] = [];
  for (const n of values.sizes!.split(",").map(Number)) {
    const windowStart = nextWindow();
    const windowEnd = windowStart + PERIOD;
    const offers = new Map<string, FlexOffer>();
    let capacity = 0;
    for (let i = 0; i < n; i++) {
      const quantityW = 1000 + (i % 4000);
      capacity += quantityW;
      const id = `d${i}:o1`;
      offers.set(id, { id, deviceId: `d${i}`, nodeId: "n", marketId: "afrr", gridNodeId: `gn-${i % 10}`, direction: i % 3 === 0 ? "down" : "up", periodFrom: windowStart, periodTo: windowEnd + PERIOD, quantityW, unitPrice: Math.round(Math.random() * 50_000) / 100, minAcceptanceW: i % 5 === 0 ? 500 : 0, baselineW: 0, expiresAt: windowEnd + PERIOD, revision: 1, status: "active", receivedAt: i });
    }
    // 1,000 requests (100 per operator in the source design) asking for ~10 % of what is offered.
    const requests: FlexRequest[] = Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, buyerId: "b", nodeId: "n", marketId: "afrr", gridNodeId: i % 2 ? `gn-${i % 10}` : undefined, direction: i % 3 === 0 ? "down" : "up", periodFrom: windowStart, periodTo: windowEnd, quantityW: Math.round((capacity * 0.1) / 1000), minQuantityW: 0, maxUnitPrice: 300 + (i % 200), expiresAt: windowEnd, revision: 1, status: "active", receivedAt: i, updatedAt: i }));
    const times: number[] = [];
    let matched = 0;
    for (let r = 0; r < 3; r++) {
      const res = runRound({ nodeId: "n", marketId: "afrr", offers: offers.values(), requests, windowStart, windowEnd, now: Date.now(), round: r });
      times.push(res.stats.ms);
      matched = res.matches.reduce((s, m) => s + m.allocations.length, 0);
    }
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = Math.random() * 2 ** 52;
    const s0 = performance.now();
    keys.sort();
    const sortMs = performance.now() - s0;
    const objs = [...offers.values()];
    const s1 = performance.now();
    objs.sort((a, b) => a.unitPrice - b.unitPrice || a.receivedAt - b.receivedAt);
    const objSortMs = performance.now() - s1;
    times.sort((a, b) => a - b);
    rows.push({ "open offers": n.toLocaleString("en"), "round ms (median of 3)": f(times[1]), "round ms (max)": f(times[2]), "allocations": matched.toLocaleString("en"), "bare Float64Array sort ms": f(sortMs), "bare object sort ms": f(objSortMs), "fits the 5 s cadence": times[2] < 5000 ? "yes" : "no" });
  }
  table("(b) bundler round (1,000 requests, 10 grid nodes, both directions)", rows);
};

// ---------- (c) activation latency ----------
/**
 * on: every device checks every message — its own body up its own path, and the batch root's
 * signature through a verifier the devices of one process share (the first device of a batch
 * pays the Ed25519 check, as each would in parallel on a CPU of its own); solo: every device
 * runs every Ed25519 check itself, all of them on this machine's cores; sample: 1 device in 10
 * checks (solo); off: none.
 */
type VerifyMode = "on" | "solo" | "sample" | "off";
const verifyLabel: Record<VerifyMode, string> = {
  on: "checking every message (root signatures shared per device process)",
  solo: "each running every Ed25519 check itself (10,000 checks per step on this machine's cores)",
  sample: "1 in 10 checking (simulation cost cut)",
  off: "not checking (node-side cost only)",
};
const benchActivation = async (verify: VerifyMode) => {
  const mosq = await startMosquitto();
  // Long enough for a warm-up and five signals 4 s apart inside one window even on a busy machine.
  const periodMs = 40_000;
  const node = await startNodeProcess({ FLEX_MQTT_URL: mosq.url, FLEX_GRID_NODES: "gn-1,gn-2,gn-3,gn-4", FLEX_PERIOD_MS: String(periodMs), FLEX_BUNDLE_INTERVAL_MS: "1000", FLEX_OFFER_RATE: "100", FLEX_OFFER_BURST: "100" }, PROF_ARGS);
  const registered = await registerFleetDevices({
    nodeUrl: node.url,
    token: node.token("fsp-1"),
    list: Array.from({ length: DEVICES }, (_, i) => ({ id: `act-${String(i).padStart(6, "0")}`, kind: "battery" as const, gridNodeId: `gn-${(i % 4) + 1}`, pMinW: -5000, pMaxW: 5000, rampWps: 100_000 })),
  });
  const children: ChildProcess[] = [];
  const per = Math.ceil(DEVICES / PROCS);
  await Promise.all(
    Array.from({ length: PROCS }, (_, p) => {
      const child = adopt(fork(path.join(here, "devices.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
      children.push(child);
      if (DEVICE_NICE) os.setPriority(child.pid!, DEVICE_NICE);
      const slice: RegisteredDevice[] = registered.slice(p * per, (p + 1) * per);
      return new Promise<void>((resolve) => {
        child.once("message", () => resolve());
        child.send({ type: "init", registered: slice, mqttUrl: mosq.url, periodMs, verify, client: DEVICE_CLIENT });
      });
    }),
  );
  const health = async () => (await (await fetch(`${node.url}/api/v1/health`, { headers: { authorization: `Bearer ${node.token("tso-1")}` } })).json()) as { offersOpen: number; devicesOnline: number };
  for (let i = 0; (await health()).offersOpen < DEVICES * 2 && i < 600; i++) await sleep(200);

  // Baseline: fan a message out to every device and time each reply.
  const probe = await connectAsync(mosq.url, { reconnectPeriod: 0 });
  const rt: number[] = [];
  let sentAt = 0;
  probe.on("message", () => rt.push(Date.now() - sentAt));
  await probe.subscribeAsync("bench/rt-ack/+", { qos: 0 });
  for (let round = 0; round < 3; round++) {
    sentAt = Date.now();
    for (const r of registered) probe.publish(`bench/rt/${r.device.id}`, "x", { qos: 0 });
    for (let i = 0; rt.length < (round + 1) * DEVICES && i < 100; i++) await sleep(50);
    await sleep(300);
  }
  await probe.endAsync(true);

  // The market round: one TSO request over every device, awarded at the window's seal.
  const tso = node.token("tso-1");
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${node.url}/api/v1${p}`, { method, headers: { authorization: `Bearer ${tso}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  };
  // The coming window if there is time to place the request before it is sealed, else the one after.
  const windowStart = (Math.floor(Date.now() / periodMs) + (Date.now() % periodMs < periodMs - 5000 ? 1 : 2)) * periodMs;
  await api("POST", "/requests", { buyerId: "tso-1", direction: "up", periodFrom: windowStart, periodTo: windowStart + periodMs, quantityW: DEVICES * 4000, maxUnitPrice: 1000 });
  // A request over every grid node becomes one trade per grid node (one bundle each).
  let trades: Trade[] = [];
  for (let i = 0; trades.length === 0 && i < 600; i++) {
    trades = (await api("GET", "/trades")).trades as Trade[];
    if (trades.length === 0) await sleep(200);
  }
  if (trades.length === 0) throw new Error("no trade formed");
  while (Date.now() < trades[0].period) await sleep(20);
  const signal = async (list: { sentAt: number; stepTs: number }[], level: number) => {
    await Promise.all(
      trades.map(async (trade) => {
        const sent = Date.now();
        const res = await api("POST", "/activation-signals", { tradeId: trade.id, setpointW: Math.round(trade.quantityW * level) });
        if (!res.step) return void process.stderr.write(`signal refused: ${JSON.stringify(res)}\n`);
        list.push({ sentAt: sent, stepTs: (res.step as { stepTs: number }).stepTs });
      }),
    );
  };
  // One warm-up signal round, reported apart: the first activation after a node starts pays
  // for V8 compiling the whole path (node and devices) and is 0.5–0.8 s slower.
  const warmup: { sentAt: number; stepTs: number }[] = [];
  await signal(warmup, 1);
  await sleep(SIGNAL_EVERY_S * 1000);
  const nodeCpu0 = cpuSeconds(node.pid);
  const mosqCpu0 = cpuSeconds(mosq.pid);
  const devCpu = () => children.reduce((n, c) => n + cpuSeconds(c.pid!), 0);
  const devCpu0 = devCpu();
  if (values["cpu-prof-dir"]) for (const c of children) c.send({ type: "profile", dir: path.resolve(values["cpu-prof-dir"]) });
  const t0 = Date.now();
  const signals: { sentAt: number; stepTs: number }[] = [];
  for (const level of [1, 0.5, 1, 0.8, 1]) {
    await signal(signals, level);
    await sleep(SIGNAL_EVERY_S * 1000);
  }
  const elapsed = (Date.now() - t0) / 1000;
  const nodeCpu = ((cpuSeconds(node.pid) - nodeCpu0) / elapsed) * 100;
  const mosqCpu = ((cpuSeconds(mosq.pid) - mosqCpu0) / elapsed) * 100;
  const devicesCpu = ((devCpu() - devCpu0) / elapsed) * 100;
  const replies = await Promise.all(
    children.map(
      (c) =>
        new Promise<{ acks: [number, number[]][]; arrivals: [number, number[]][]; refused: Record<string, number>; activations: number }>((resolve) => {
          c.once("message", (m: { acks: [number, number[]][]; arrivals: [number, number[]][]; refused: Record<string, number>; activations: number }) => resolve(m));
          c.send({ type: "report" });
        }),
    ),
  );
  const reports = replies.map((r) => r.acks);
  const refused: Record<string, number> = {};
  for (const r of replies) for (const [k, v] of Object.entries(r.refused)) refused[k] = (refused[k] ?? 0) + v;
  const byStep = new Map<number, number[]>();
  for (const r of reports) for (const [stepTs, ats] of r) byStep.set(stepTs, [...(byStep.get(stepTs) ?? []), ...ats]);
  const fromSignal: number[] = [];
  const fromStep: number[] = [];
  let signalDevices = 0;
  const fromWarmup: number[] = [];
  for (const [stepTs, ats] of byStep) {
    const measured = signals.find((s) => s.stepTs === stepTs);
    const warm = warmup.find((s) => s.stepTs === stepTs);
    if (measured) {
      signalDevices += ats.length;
      for (const at of ats) fromSignal.push(at - measured.sentAt);
    } else if (warm) for (const at of ats) fromWarmup.push(at - warm.sentAt);
    else if (stepTs >= t0) for (const at of ats) fromStep.push(at - stepTs);
  }
  fromWarmup.sort((a, b) => a - b);
  const arrived: number[] = [];
  for (const r of replies)
    for (const [stepTs, ats] of r.arrivals) {
      const signal = signals.find((s) => s.stepTs === stepTs);
      if (signal) for (const at of ats) arrived.push(at - signal.sentAt);
    }
  for (const list of [fromSignal, fromStep, rt, arrived]) list.sort((a, b) => a - b);
  if (process.env.BENCH_FLEX_PER_SIGNAL) {
    for (const sig of [...signals].sort((a, b) => a.sentAt - b.sentAt)) {
      const xs = (byStep.get(sig.stepTs) ?? []).map((at) => at - sig.sentAt).sort((a, b) => a - b);
      const arr = replies.flatMap((r) => r.arrivals.filter(([k]) => k === sig.stepTs).flatMap(([, ats]) => ats.map((at) => at - sig.sentAt))).sort((a, b) => a - b);
      process.stderr.write(`signal at +${sig.sentAt - t0} ms (step ${sig.stepTs - sig.sentAt} ms after): arrived p50 ${percentile(arr, 0.5)} p99 ${percentile(arr, 0.99)}; ${xs.length} acks, p50 ${percentile(xs, 0.5)} p99 ${percentile(xs, 0.99)} max ${xs.at(-1)}\n`);
    }
    const steps = [...byStep.keys()].filter((k) => !signals.some((s) => s.stepTs === k)).sort();
    for (const k of steps) {
      const xs = byStep.get(k)!.map((at) => at - k).sort((a, b) => a - b);
      process.stderr.write(`step at +${k - t0} ms: ${xs.length} acks, p50 ${percentile(xs, 0.5)} p99 ${percentile(xs, 0.99)}\n`);
    }
  }
  const row = (what: string, xs: number[], extra: Record<string, string | number> = {}) => ({ "path": what, "samples": xs.length, "p50 ms": f(xs.length ? percentile(xs, 0.5) : NaN), "p99 ms": f(xs.length ? percentile(xs, 0.99) : NaN), "max ms": f(xs.at(-1) ?? NaN), ...extra });
  table(`(c) activation latency, ${DEVICES} connected devices in ${PROCS} processes (${DEVICE_CLIENT === "lean" ? "lean MQTT client" : "mqtt.js"}), LFC signals every ${SIGNAL_EVERY_S} s, devices ${verifyLabel[verify]}`, [
    row("bare broker: fan-out to every device → reply seen", rt, { "node CPU %": "–", "broker CPU %": "–", "devices CPU %": "–" }),
    row("LFC signal (HTTP) → signed setpoint arrives at the device", arrived, { "node CPU %": "", "broker CPU %": "", "devices CPU %": "" }),
    row("LFC signal (HTTP) → signed setpoint → device verified and acked", fromSignal, { "node CPU %": f(nodeCpu, 0), "broker CPU %": f(mosqCpu, 0), "devices CPU %": f(devicesCpu, 0) }),
    row("2 s step start → device verified and acked", fromStep, { "node CPU %": f(nodeCpu, 0), "broker CPU %": f(mosqCpu, 0), "devices CPU %": f(devicesCpu, 0) }),
  ]);
  process.stdout.write(`warm-up round (first activation after the node started, not in the rows above): ${fromWarmup.length} acks, p50 ${f(percentile(fromWarmup, 0.5), 0)} ms, p99 ${f(percentile(fromWarmup, 0.99), 0)} ms\n`);
  process.stdout.write(`trades: ${trades.length} (${trades.reduce((n, t) => n + t.deviceCount, 0)} devices), signals: ${signals.length}, device acks of signal steps: ${signalDevices}, activations taken: ${replies.reduce((n, r) => n + r.activations, 0)}, refused: ${JSON.stringify(refused)}\n`);
  for (const c of children) c.send({ type: "stop" });
  await Promise.all(children.map((c) => new Promise((r) => c.once("exit", r))));
  await node.close();
  await mosq.close();
};

// ---------- (d) signatures ----------
const benchSignatures = () => {
  const keys = generateNodeKeys();
  const signer = createSigner(keys);
  const publicKey = importPublicKey(keys.publicKey);
  const signingKey = importPrivateKey(keys.privateKey);
  const bodies = Array.from({ length: 5000 }, (_, i) => ({ deviceId: `dev-${i}`, nodeId: "flex-tso", seq: 1_700_000_000_000 + i, stepTs: 1_700_000_000_000, setpointW: -2500 + i, validUntil: 1_700_000_005_000, tradeIds: ["flex-tso:1700000000000:req-1:gn-1"] }));
  const rate = (n: number, fn: (i: number) => void) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    return n / ((performance.now() - t) / 1000);
  };
  const signatures = bodies.map((b) => signer.sign(b));
  const N = 20_000;
  const sign = rate(N, (i) => signer.sign(bodies[i % bodies.length]));
  const verify = rate(N, (i) => verifyCanonical(publicKey, bodies[i % bodies.length], signatures[i % bodies.length]));
  const canon = rate(N * 5, (i) => canonicalJson(bodies[i % bodies.length]));
  const hmac = rate(N * 5, (i) => createHmac("sha256", "k").update(canonicalJson(bodies[i % bodies.length])).digest());
  // What the node and a device do per message now (lib/flex/activation-batch.ts).
  const batch = 200;
  const batches: ReturnType<typeof signActivationBatch>[] = [];
  const signBatchRate = rate(N / batch, (i) => void batches.push(signActivationBatch(signingKey, "flex-tso", bodies.slice((i * batch) % bodies.length, ((i * batch) % bodies.length) + batch)))) * batch;
  const messages = batches.flat().slice(0, 5000);
  const wire = messages.map((m) => JSON.stringify(m));
  const checkRate = (verifier: StatementVerifier) => rate(N, (i) => checkActivation(wire[i % wire.length], { deviceId: messages[i % messages.length].deviceId, nodeId: "flex-tso", nodeKey: publicKey, lastSeq: -1, pMinW: -1e6, pMaxW: 1e6, now: 0, verifier }));
  const checkSolo = checkRate(verifyStatement(publicKey));
  const checkShared = checkRate(rememberingVerifier(verifyStatement(publicKey)));
  table("(d) signatures over canonical JSON (one core)", [
    { "operation": "Ed25519 sign (node:crypto)", "per second": f(sign, 0), "µs each": f(1e6 / sign, 1) },
    { "operation": "Ed25519 verify (what a device does)", "per second": f(verify, 0), "µs each": f(1e6 / verify, 1) },
    { "operation": "baseline: canonical JSON only", "per second": f(canon, 0), "µs each": f(1e6 / canon, 1) },
    { "operation": "baseline: HMAC-SHA256 (a shared-secret MAC)", "per second": f(hmac, 0), "µs each": f(1e6 / hmac, 1) },
    { "operation": `node: sign a batch of ${batch} (Merkle root, paths, messages), per message`, "per second": f(signBatchRate, 0), "µs each": f(1e6 / signBatchRate, 1) },
    { "operation": "device: check one batch message (JSON, schema, path, Ed25519 of the root)", "per second": f(checkSolo, 0), "µs each": f(1e6 / checkSolo, 1) },
    { "operation": "sim device: the same with the root's check shared in the process", "per second": f(checkShared, 0), "µs each": f(1e6 / checkShared, 1) },
  ]);
};

// ---------- (e) the node's send path ----------
const benchSendPath = async () => {
  const ids = Array.from({ length: DEVICES }, (_, i) => `act-${String(i).padStart(6, "0")}`);
  const allocations = ids.map((deviceId, i) => ({ offerId: `${deviceId}:o1`, deviceId, nodeId: "n1", quantityW: 1000, unitPrice: 10 + (i % 100), baselineW: 0 }));
  const trade: Trade = { id: "t1", nodeId: "n1", requestId: "r1", buyerId: "tso-1", bundleId: "b1", gridNodeId: "gn-1", direction: "up", quantityW: DEVICES * 1000, clearingPrice: 50, period: 0, periodEnd: Date.now() + 3_600_000, deviceCount: DEVICES, status: "awarded", awardedAt: 0 };
  let t0 = 0;
  const at: number[] = [];
  const router = createActivationRouter({ nodeId: "n1", signer: createSigner(generateNodeKeys()), stepMs: 2000, ackTimeoutMs: 60_000, device: () => ({ pMinW: -5000, pMaxW: 5000 }), publish: (_id, m) => void (JSON.stringify(m), at.push(performance.now() - t0)), onStep: () => {}, onRejected: () => {} });
  const stall = monitorEventLoopDelay({ resolution: 1 });
  const rows: Record<string, string | number>[] = [];
  for (let r = 0; r < 5; r++) {
    at.length = 0;
    stall.reset();
    stall.enable();
    t0 = performance.now();
    router.stepTrade(trade, allocations, DEVICES * 1000 * (r % 2 ? 0.5 : 1));
    const returned = performance.now() - t0;
    while (at.length < DEVICES) await sleep(1);
    stall.disable();
    rows.push({ "step": r + 1, "devices": DEVICES, "stepTrade returns ms": f(returned), "first setpoint ms": f(at[0]), "last setpoint ms": f(at.at(-1)!), "longest event-loop stall ms": f(stall.max / 1e6) });
    await sleep(300);
  }
  router.close();
  table("(e) the node's send path alone (sign + serialise, no broker): one step over every device", rows);
};

/** Other work on a 2-core box skews every number: wait (bounded) for the machine to be idle. */
const waitForQuiet = async (maxSeconds: number) => {
  const busy = () => {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1).map(Number);
    return { idle: cpu[3] + cpu[4], total: cpu.reduce((x, y) => x + y, 0) };
  };
  const until = Date.now() + maxSeconds * 1000;
  for (;;) {
    const s0 = busy();
    await sleep(3000);
    const s1 = busy();
    const share = 1 - (s1.idle - s0.idle) / (s1.total - s0.total);
    if (share < 0.25) return `idle (${f(share * 100, 0)} % busy before the run)`;
    if (Date.now() > until) return `BUSY: ${f(share * 100, 0)} % of the CPUs were in use by other work when the run started — numbers are pessimistic`;
  }
};

const main = async () => {
  process.stdout.write(`bench:flex on ${new Date().toISOString()} — node ${process.version}\n`);
  if (Number(values["quiet-wait"]) > 0) process.stdout.write(`machine: ${await waitForQuiet(Number(values["quiet-wait"]))}\n`);
  if (parts.has("d")) benchSignatures();
  if (parts.has("e")) await benchSendPath();
  if (parts.has("b")) benchBundler();
  if (parts.has("a")) await benchOffers();
  if (parts.has("c")) for (const verify of (values.verify === "both" ? "on,solo" : values.verify!).split(",") as VerifyMode[]) await benchActivation(verify);
  if (values["json-out"]) appendFileSync(values["json-out"], `${JSON.stringify({ at: new Date().toISOString(), devices: DEVICES, procs: PROCS, results })}\n`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:flex failed: ${(error as Error).stack}\n`);
    killAll();
    process.exit(1);
  },
);
