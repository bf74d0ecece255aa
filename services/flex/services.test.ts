import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectAsync } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import type { ActivationStep, Trade } from "../../contracts/flex/entities";
import { deviceTopics } from "../../contracts/flex/mqtt";
import { createRng } from "../../sim/ocpp/rng";
import { createSimDevice } from "../../sim/flex/device";
import { registerFleetDevices, startFlexFleet } from "../../sim/flex/fleet";
import { deviceUsername, mosquittoAcl } from "./broker-acl";
import { call, eventually, freePort, startHarness, TEST_TIMING, windowAhead } from "./testkit";

/**
 * Service-backed (npm run test:services): two nodes on the machine's Redis (store and
 * links), and devices on Mosquitto — a broker of the machine's own binary with a password
 * file and an ACL file written the way services/flex/README.md documents, and the machine's
 * running Mosquitto on 1883 for a whole market round.
 */
const services = process.env.SWITCHYARD_TEST_SERVICES === "1";
const P = TEST_TIMING.periodMs;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

const tradeOf = async (node: { url: string }, token: string) => {
  let trade: Trade | undefined;
  await eventually(async () => {
    trade = ((await call(node, token, "GET", "/trades")).body.trades as Trade[])[0];
    return !!trade;
  }, "a trade", 15_000);
  return trade!;
};

describe.skipIf(!services)("flex on the machine's Redis", () => {
  it("links a TSO and a DSO node over Redis and restores each from it", async () => {
    const prefix = `test:flex:${randomBytes(4).toString("hex")}`;
    const h = await startHarness({
      nodes: [
        { nodeId: "tso", role: "TSO", gridNodes: ["gn-t"], trader: "tso-1" },
        { nodeId: "dso", role: "DSO", gridNodes: ["gn-d"], trader: "dso-north" },
      ],
      redis: { url: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", prefix },
    });
    closers.push(h.close);
    const tso = h.node("tso");
    const dso = h.node("dso");
    const fleet = await startFlexFleet({ nodeUrl: dso.node.url, token: dso.fspToken, mqttUrl: h.mqttUrl, devices: 4, kinds: ["battery"], reviseEveryMs: 600_000, tickMs: 100 });
    closers.push(fleet.close);
    await eventually(() => tso.node.health().offersOpen === 8, "DSO offers replicated to the TSO over Redis");
    const created = await call(tso.node, tso.traderToken, "POST", "/requests", { buyerId: "tso-1", direction: "up", ...windowAhead(P, 2), quantityW: 8000, maxUnitPrice: 1000 });
    const trade = await tradeOf(tso.node, tso.traderToken);
    expect((await call(tso.node, tso.traderToken, "POST", "/activation-signals", { tradeId: trade.id, setpointW: 8000 })).status).toBe(202);
    await eventually(async () => ((await call(tso.node, tso.traderToken, "GET", "/activations")).body.steps as ActivationStep[]).some((s) => s.closed && s.acked >= 2), "acks back over Redis");

    const dso2 = await h.restart("dso");
    expect(dso2.node.health().offersOpen).toBe(8);
    expect(dso2.node.health().devicesRegistered).toBe(4);
    const tso2 = await h.restart("tso");
    expect(((await call(tso2.node, tso2.traderToken, "GET", "/requests")).body.requests as { id: string }[]).map((r) => r.id)).toEqual([created.body.id]);
    expect(((await call(tso2.node, tso2.traderToken, "GET", "/activations")).body.signals as unknown[]).length).toBe(1);
    // The restarted TSO gets the DSO's book again over the link (a hello with a new epoch).
    await eventually(() => tso2.node.health().offersOpen === 8, "the TSO's book rebuilt from its peer");
  });
});

const startMosquitto = async (dir: string, nodeUser: { username: string; password: string }) => {
  const port = await freePort();
  const passwd = path.join(dir, "passwd");
  const acl = path.join(dir, "acl");
  execFileSync("mosquitto_passwd", ["-b", "-c", passwd, nodeUser.username, nodeUser.password]);
  fs.writeFileSync(acl, mosquittoAcl({ devices: [], nodeUsers: [nodeUser.username] }));
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous false", `password_file ${passwd}`, `acl_file ${acl}`, "persistence false", "log_dest none"].join("\n") + "\n");
  // Started as root, Mosquitto drops to its own user, which must be able to read the files.
  fs.chmodSync(dir, 0o755);
  for (const f of [passwd, acl, conf]) fs.chmodSync(f, 0o644);
  const proc = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  const url = `mqtt://127.0.0.1:${port}`;
  await eventually(async () => {
    try {
      const c = await connectAsync(url, { ...nodeUser, reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync(true);
      return true;
    } catch {
      return false;
    }
  }, "mosquitto up");
  return {
    url,
    /** Adds devices to the password and ACL files and has Mosquitto reload them (SIGHUP). */
    addDevices: (devices: { id: string; password: string }[]) => {
      for (const d of devices) execFileSync("mosquitto_passwd", ["-b", passwd, deviceUsername(d.id), d.password]);
      fs.writeFileSync(acl, mosquittoAcl({ devices: devices.map((d) => d.id), nodeUsers: [nodeUser.username] }));
      for (const f of [passwd, acl]) fs.chmodSync(f, 0o644);
      proc.kill("SIGHUP");
    },
    close: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    },
  };
};

describe.skipIf(!services)("flex devices on Mosquitto", () => {
  it("confines each device to its own topics with a password file and an ACL file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flex-mosq-"));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const nodeUser = { username: "flex-node-dso", password: randomBytes(12).toString("hex") };
    const mosq = await startMosquitto(dir, nodeUser);
    closers.push(mosq.close);
    const h = await startHarness({ nodes: [{ nodeId: "dso", role: "DSO", gridNodes: ["gn-d"], trader: "dso-north" }], brokerUrl: mosq.url, brokerCredentials: () => nodeUser });
    closers.push(h.close);
    const n = h.node("dso");
    const registered = await registerFleetDevices({
      nodeUrl: n.node.url,
      token: n.fspToken,
      list: ["m1", "m2"].map((id) => ({ id, kind: "battery" as const, gridNodeId: "gn-d", pMinW: -5000, pMaxW: 5000, rampWps: 5000 })),
    });
    mosq.addDevices(registered.map((r) => ({ id: r.device.id, password: r.password })));
    const devices = registered.map((r, i) => createSimDevice({ registered: r, mqttUrl: mosq.url, rng: createRng(i + 1), behaviour: "steady", periodMs: P, reviseEveryMs: 600_000 }));
    closers.push(async () => {
      for (const d of devices) await d.close();
    });
    // Mosquitto reloads the files asynchronously after SIGHUP; retry the first login.
    await eventually(async () => {
      try {
        await devices[0].start();
        return true;
      } catch {
        return false;
      }
    }, "a device login after the reload");
    await devices[1].start();
    for (const d of devices) d.postOffers();
    await eventually(() => n.node.health().offersOpen === 4, "both devices' offers");

    const [a, b] = devices;
    const { periodFrom, periodTo } = windowAhead(P, 1);
    const offer = { direction: "up", periodFrom, periodTo, quantityW: 1000, unitPrice: 50, baselineW: 0 };
    // Same connection, so order holds: if the hijack got through, it would land before the barrier.
    a.publishRaw(deviceTopics(b.id).offers, JSON.stringify({ ...offer, offerId: "hijack" }));
    a.publishRaw(deviceTopics(a.id).offers, JSON.stringify({ ...offer, offerId: "barrier" }));
    await eventually(() => n.node.health().offersOpen >= 5, "the barrier offer");
    expect(n.node.health().offersOpen).toBe(5);
    // Mosquitto grants the subscription but delivers nothing the ACL does not allow to be read.
    const seen: string[] = [];
    a.mqtt()!.on("message", (topic) => seen.push(topic));
    await new Promise<void>((resolve, reject) => a.mqtt()!.subscribe(deviceTopics(b.id).activation, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
    const nodeClient = await connectAsync(mosq.url, { ...nodeUser, clientId: "test-node-publisher", reconnectPeriod: 0 });
    closers.push(() => nodeClient.endAsync(true));
    await nodeClient.publishAsync(deviceTopics(b.id).activation, "{}", { qos: 1 });
    await nodeClient.publishAsync(deviceTopics(a.id).activation, "{}", { qos: 1 });
    await eventually(() => seen.includes(deviceTopics(a.id).activation), "the barrier on the device's own topic");
    expect(seen).not.toContain(deviceTopics(b.id).activation);
    await expect(connectAsync(mosq.url, { username: deviceUsername("m1"), password: "wrong", reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow();
  });

  it("runs a market round through the machine's Mosquitto on 1883", async () => {
    const topicRoot = `flex-test-${randomBytes(4).toString("hex")}/v1`;
    const h = await startHarness({ nodes: [{ nodeId: "dso", role: "DSO", gridNodes: ["gn-d"], trader: "dso-north" }], brokerUrl: process.env.TEST_MQTT_URL ?? "mqtt://127.0.0.1:1883", timing: { topicRoot } });
    closers.push(h.close);
    const n = h.node("dso");
    const fleet = await startFlexFleet({ nodeUrl: n.node.url, token: n.fspToken, mqttUrl: h.mqttUrl, devices: 3, kinds: ["battery"], reviseEveryMs: 600_000, tickMs: 100 });
    closers.push(fleet.close);
    await eventually(() => n.node.health().offersOpen === 6, "offers through Mosquitto");
    await call(n.node, n.traderToken, "POST", "/requests", { buyerId: "dso-north", gridNodeId: "gn-d", direction: "down", ...windowAhead(P, 2), quantityW: 3000, maxUnitPrice: 1000 });
    const trade = await tradeOf(n.node, n.traderToken);
    expect((await call(n.node, n.traderToken, "POST", "/activation-signals", { tradeId: trade.id, setpointW: 3000 })).status).toBe(202);
    await eventually(async () => ((await call(n.node, n.traderToken, "GET", "/activations")).body.steps as ActivationStep[]).some((s) => s.closed && s.acked > 0), "acked steps through Mosquitto");
  });
});
