import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { logger } from "../../../lib/log";
import { usingServices } from "../../../lib/testing/db";
import { eventually } from "../testkit";
import type { Broker, Delivery } from "./broker";
import { createInProcessBroker } from "./in-process-broker";
import { createNatsBroker } from "./nats-broker";

/**
 * The broker contract, run against each adapter: a group gets every message once, two
 * groups each get all, a failed batch comes back, a latest-value topic gives late
 * subscribers the newest value. NATS runs under `npm run test:services` (the machine's NATS).
 */
const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const opened: Broker[] = [];
const streams: string[] = [];
afterAll(async () => {
  for (const b of opened) await b.close();
  if (!streams.length) return;
  const nc = await import("nats").then((n) => n.connect({ servers: NATS_URL }));
  const jsm = await nc.jetstreamManager();
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

const adapters: { name: string; create: () => Promise<Broker> }[] = [{ name: "in-process", create: async () => createInProcessBroker() }];
if (usingServices()) {
  adapters.push({
    name: "nats",
    create: async () => {
      const id = randomBytes(4).toString("hex").toUpperCase();
      streams.push(`TB${id}`, `TB${id}_SYSTEM`);
      return createNatsBroker({ url: NATS_URL, subjectPrefix: `tb${id}`, stream: `TB${id}`, ackWaitMs: 1000, log: logger() });
    },
  });
}

describe.each(adapters)("$name broker", ({ create }) => {
  it("delivers each message once per group, to every group, keyed by device", async () => {
    const broker = await create();
    opened.push(broker);
    const a: Delivery[] = [];
    const b: Delivery[] = [];
    await broker.consume({ topic: "monitoring.mppt", group: "group.one", handle: async (batch) => void a.push(...batch) });
    await broker.consume({ topic: "monitoring.mppt", group: "group.two", handle: async (batch) => void b.push(...batch) });
    await broker.publish("monitoring.mppt", Array.from({ length: 50 }, (_, i) => ({ key: `dev.${i % 5}/x`, value: { i } })));
    await eventually(() => a.length === 50 && b.length === 50, "both groups");
    expect(new Set(a.map((d) => (d.value as { i: number }).i)).size).toBe(50);
    expect(a[0].key).toBe("dev.0/x");
  });

  it("redelivers a batch whose handler failed", async () => {
    const broker = await create();
    opened.push(broker);
    let failures = 0;
    const seen: Delivery[] = [];
    await broker.consume({
      topic: "monitoring.pms",
      group: "group.flaky",
      handle: async (batch) => {
        if (failures++ === 0) throw new Error("store down");
        seen.push(...batch);
      },
    });
    await broker.publish("monitoring.pms", [{ key: "p", value: { n: 1 } }]);
    const got = await eventually(() => seen.find((d) => (d.value as { n: number }).n === 1), "redelivery");
    expect(got.redelivered).toBe(true);
  });

  it("gives a late subscriber the newest latest-value message", async () => {
    const broker = await create();
    opened.push(broker);
    await broker.publishLatest("system.feature", { version: 1 });
    await broker.publishLatest("system.feature", { version: 2 });
    const values: unknown[] = [];
    const stop = await broker.subscribeLatest("system.feature", (v) => values.push(v));
    await eventually(() => values.length > 0, "latest value");
    expect(values.at(-1)).toEqual({ version: 2 });
    await broker.publishLatest("system.feature", { version: 3 });
    await eventually(() => (values.at(-1) as { version: number }).version === 3, "live value");
    stop();
  });
});

describe("in-process broker with several batches in flight", () => {
  it("hands out up to inFlight batches at once, and drain waits for those still being handled", async () => {
    const broker = createInProcessBroker();
    opened.push(broker);
    let active = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const handled: number[] = [];
    await broker.consume({
      topic: "monitoring.mppt",
      group: "group.pipelined",
      maxBatch: 10,
      inFlight: 3,
      handle: (batch) =>
        new Promise<void>((resolve) => {
          active += 1;
          most = Math.max(most, active);
          releases.push(() => {
            active -= 1;
            handled.push(...batch.map((d) => (d.value as { i: number }).i));
            resolve();
          });
        }),
    });
    await broker.publish("monitoring.mppt", Array.from({ length: 50 }, (_, i) => ({ key: "d", value: { i } })));
    await eventually(() => releases.length === 3, "three batches in flight");
    expect(most).toBe(3);
    let drained = false;
    const draining = broker.drain().then(() => (drained = true));
    for (let n = 0; n < 5; n++) {
      await eventually(() => releases.length > n, `batch ${n}`);
      releases[n]();
    }
    await draining;
    expect(drained).toBe(true);
    expect(most).toBe(3);
    expect([...handled].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
