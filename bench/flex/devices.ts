import type { RegisteredDevice } from "../../contracts/flex/api";
import { createSimDevice, type SimDevice } from "../../sim/flex/device";
import { createRng } from "../../sim/ocpp/rng";

/**
 * A forked device process for bench:flex (c): simulated devices (signature checks and all)
 * on the broker; per activation step it reports when each device acked. Also echoes
 * `bench/rt/<id>` → `bench/rt-ack/<id>` for the bare-broker baseline.
 */
// Never outlive the benchmark, even when it dies without saying stop.
process.on("disconnect", () => process.exit(0));

type Init = { registered: RegisteredDevice[]; mqttUrl: string; periodMs: number; verify: "on" | "sample" | "off" };

process.on("message", async (msg: { type: string } & Partial<Init>) => {
  if (msg.type === "init") {
    const { registered, mqttUrl, periodMs, verify } = msg as Init;
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
        verifySignatures: verify === "on" || (verify === "sample" && i % 10 === 0),
        onEvent: (e) => {
          if (e.type !== "followed") return;
          let list = acks.get(e.stepTs);
          if (!list) acks.set(e.stepTs, (list = []));
          list.push(Date.now());
        },
      }),
    );
    for (let i = 0; i < devices.length; i += 250) await Promise.all(devices.slice(i, i + 250).map((d) => d.start()));
    for (const d of devices) {
      const c = d.mqtt()!;
      c.subscribe(`bench/rt/${d.id}`, { qos: 0 });
      c.on("message", (topic, payload) => {
        if (topic === `bench/rt/${d.id}`) c.publish(`bench/rt-ack/${d.id}`, payload, { qos: 0 });
      });
    }
    const timer = setInterval(() => {
      const now = Date.now();
      for (const d of devices) d.tick(now);
    }, 1000);
    process.send!({ type: "ready" });
    process.on("message", async (m: { type: string }) => {
      if (m.type === "report") {
        const refused: Record<string, number> = {};
        for (const d of devices) for (const [k, v] of Object.entries(d.stats.refused)) refused[k] = (refused[k] ?? 0) + v;
        process.send!({ type: "report", acks: [...acks.entries()], refused, activations: devices.reduce((n, d) => n + d.stats.activations, 0) });
      }
      if (m.type === "stop") {
        clearInterval(timer);
        for (let i = 0; i < devices.length; i += 500) await Promise.all(devices.slice(i, i + 500).map((d) => d.close()));
        process.exit(0);
      }
    });
  }
});
