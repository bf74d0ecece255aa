import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import type { RegisteredDevice } from "../../contracts/flex/api";
import { createSimDevice, type SimDevice } from "../../sim/flex/device";
import { createRng } from "../../sim/ocpp/rng";
import { leanConnect } from "./lean-mqtt";

/**
 * A forked device process for bench:flex (c): simulated devices (signature checks and all)
 * on the broker; per activation step it reports when each device acked. Also echoes
 * `bench/rt/<id>` → `bench/rt-ack/<id>` for the bare-broker baseline.
 */
// Never outlive the benchmark, even when it dies without saying stop.
process.on("disconnect", () => process.exit(0));

type Init = { registered: RegisteredDevice[]; mqttUrl: string; periodMs: number; verify: "on" | "solo" | "sample" | "off"; client: "lean" | "mqtt.js" };

process.on("message", async (msg: { type: string } & Partial<Init>) => {
  if (msg.type === "init") {
    const { registered, mqttUrl, periodMs, verify, client } = msg as Init;
    const acks = new Map<number, number[]>();
    const devices: SimDevice[] = registered.map((r, i) =>
      createSimDevice({
        registered: r,
        mqttUrl,
        rng: createRng(i + 1),
        behaviour: "steady",
        periodMs: periodMs!,
        reviseEveryMs: 3_600_000,
        telemetryEveryMs: 3_600_000,
        verifySignatures: verify === "on" || verify === "solo" || (verify === "sample" && i % 10 === 0),
        shareVerification: verify === "on",
        connect: client === "lean" ? leanConnect : undefined,
        onEvent: (e) => {
          if (e.type !== "followed") return;
          let list = acks.get(e.stepTs);
          if (!list) acks.set(e.stepTs, (list = []));
          list.push(Date.now());
        },
      }),
    );
    for (let i = 0; i < devices.length; i += 250) await Promise.all(devices.slice(i, i + 250).map((d) => d.start()));
    // When each step's setpoints arrived, and how long the device's handler took.
    const arrivals = new Map<number, number[]>();
    let handlerStart = 0n;
    let handlerNs = 0n;
    let handled = 0;
    for (const d of devices) {
      const c = d.mqtt()!;
      const rt = `bench/rt/${d.id}`;
      c.subscribe(rt, { qos: 0 });
      // Before the device's own listener: when the setpoint arrived, and the handler's start.
      (c as unknown as { prependListener: (e: string, l: (topic: string, payload: Buffer) => void) => void }).prependListener("message", (topic, payload) => {
        if (!topic.endsWith("/activation")) return;
        const at = payload.indexOf('"stepTs":');
        const stepTs = at < 0 ? NaN : parseInt(payload.toString("latin1", at + 9, at + 24), 10);
        let list = arrivals.get(stepTs);
        if (!list) arrivals.set(stepTs, (list = []));
        list.push(Date.now());
        handlerStart = process.hrtime.bigint();
      });
      // After it.
      c.on("message", (topic, payload) => {
        if (topic === rt) return void c.publish(`bench/rt-ack/${d.id}`, payload, { qos: 0 });
        if (!topic.endsWith("/activation")) return;
        handlerNs += process.hrtime.bigint() - handlerStart;
        handled++;
      });
    }
    const timer = setInterval(() => {
      const now = Date.now();
      for (const d of devices) d.tick(now);
    }, 1000);
    process.send!({ type: "ready" });
    let profiling: { session: Session; dir: string } | undefined;
    process.on("message", async (m: { type: string; dir?: string }) => {
      // --cpu-prof-dir: a CPU profile of the measured window only (not the devices' start).
      if (m.type === "profile" && m.dir) {
        const session = new Session();
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
        profiling = { session, dir: m.dir };
      }
      if (m.type === "report" && profiling) {
        const { profile } = await profiling.session.post("Profiler.stop");
        writeFileSync(path.join(profiling.dir, `devices-${process.pid}.cpuprofile`), JSON.stringify(profile));
        profiling.session.disconnect();
        profiling = undefined;
      }
      if (m.type === "report") {
        const refused: Record<string, number> = {};
        for (const d of devices) for (const [k, v] of Object.entries(d.stats.refused)) refused[k] = (refused[k] ?? 0) + v;
        if (process.env.BENCH_FLEX_PER_SIGNAL) process.stderr.write(`device process ${process.pid}: ${handled} activations, ${(Number(handlerNs) / 1000 / Math.max(1, handled)).toFixed(1)} µs each in the device's handler, cpu ${JSON.stringify(process.cpuUsage())}\n`);
        process.send!({ type: "report", acks: [...acks.entries()], arrivals: [...arrivals.entries()], refused, activations: devices.reduce((n, d) => n + d.stats.activations, 0) });
      }
      if (m.type === "stop") {
        clearInterval(timer);
        for (let i = 0; i < devices.length; i += 500) await Promise.all(devices.slice(i, i + 500).map((d) => d.close()));
        process.exit(0);
      }
    });
  }
});
