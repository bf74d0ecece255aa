import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RPCClient } from "ocpp-rpc";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDb, usingServices, type TestDb } from "../../../lib/testing/db";
import { eventually, startTestBroker } from "../testkit";
import { startGateway, type Gateway } from "../gateway/gateway";
import { api, metricValue, observe } from "./harness";
import { kill9, startServiceProcess } from "../../../lib/testing/service-process";

/**
 * Nothing lost: a manager process killed with SIGKILL in the middle of a StatusNotification
 * burst, and started again with the same id, answers every station CALL, and the state it
 * keeps is the last thing each station said. And with two managers (station affinity), a
 * kill -9 of one moves its stations to the other, which answers the gateway's retries.
 * Real processes, a real broker, PostgreSQL.
 */

const TOKEN = "durable-test-token-0123456789";
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

const startManagerProcess = (env: Record<string, string>) => startServiceProcess("services/csms/manager/main.ts", env, { children });

const STATUSES = ["Available", "Preparing", "Charging", "SuspendedEV", "Finishing"] as const;

/** OCPP 1.6 stations connected to the gateway, each booted. */
const bootStations = (gatewayUrl: string, ids: string[]) =>
  Promise.all(
    ids.map(async (id) => {
      const c = new RPCClient({ endpoint: `${gatewayUrl}/ws`, identity: id, password: "x", protocols: ["ocpp1.6"], reconnect: false, callTimeoutMs: 60_000 } as unknown as ConstructorParameters<typeof RPCClient>[0]);
      await c.connect();
      cleanups.push(() => c.close({ force: true }));
      await c.call("BootNotification", { chargePointVendor: "Acme", chargePointModel: "Durable" });
      return c;
    }),
  );

/** Every station sends `perStation` StatusNotifications one after another; `answered()` counts the answers so far. */
const statusBurst = (clients: RPCClient[], perStation: number) => {
  let answered = 0;
  const done = Promise.allSettled(
    clients.map(async (c) => {
      for (let i = 0; i < perStation; i++) {
        await c.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: STATUSES[i % STATUSES.length] });
        answered++;
      }
    }),
  );
  return { done, answered: () => answered };
};

describe.skipIf(!usingServices())("kill -9 of the manager", () => {
  it("loses no station message: every CALL of a burst is answered and the last status of each station is stored", async () => {
    const testDb: TestDb = await createTestDb();
    cleanups.push(() => testDb.close());
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "csms-durable-"));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const prefix = `cs-dur-${randomBytes(3).toString("hex")}`;
    const env = {
      MQTT_URL: broker.url,
      DATABASE_URL: testDb.url!,
      // A stable id = a stable MQTT client id = a session the broker keeps while it is down.
      CSMS_MANAGER_ID: `d${randomBytes(3).toString("hex")}`,
      CSMS_API_TOKEN: TOKEN,
      CSMS_MANAGER_PORT: "0",
      CSMS_TOPIC_PREFIX: prefix,
      CSMS_ACCEPT_UNKNOWN_TOKENS: "1",
      SWITCHYARD_DATA_DIR: dataDir,
    };
    let manager = await startManagerProcess(env);
    const gateway: Gateway = await startGateway({ port: 0, mqttUrl: broker.url, topicPrefix: prefix, authenticate: async () => true, callTimeoutMs: 60_000, retryMs: 1000 });
    cleanups.push(() => gateway.close());
    const observer = await observe(broker.url, prefix);
    cleanups.push(() => observer.close());

    const ids = Array.from({ length: 10 }, (_, i) => `DUR${i}`);
    const clients = await bootStations(gateway.url, ids);
    const PER_STATION = 40;
    const burst = statusBurst(clients, PER_STATION);
    // Kill it in the middle of the burst, and start it again with the same id.
    await eventually(() => burst.answered() >= 80, "part of the burst answered", 60_000);
    await kill9(manager.proc);
    const answeredAtKill = burst.answered();
    manager = await startManagerProcess(env);
    const results = await burst.done;
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(answeredAtKill).toBeLessThan(ids.length * PER_STATION);
    expect(burst.answered()).toBe(ids.length * PER_STATION);

    // Every StatusNotification got an answer on `out` from a manager.
    const callIds = new Set(observer.seen.filter((m) => m.direction === "in" && m.envelope.type === 2 && m.envelope.action === "StatusNotification").map((m) => `${m.stationId}/${m.envelope.id}`));
    const answerIds = new Set(observer.seen.filter((m) => m.direction === "out" && m.envelope.type === 3).map((m) => `${m.stationId}/${m.envelope.id}`));
    expect(callIds.size).toBe(ids.length * PER_STATION);
    for (const id of callIds) expect(answerIds.has(id)).toBe(true);
    // And the state is the last thing each station said.
    const http = api(manager.url, TOKEN);
    const last = STATUSES[(PER_STATION - 1) % STATUSES.length];
    for (const id of ids) expect((await http.get(`/api/v0/stations/${id}`)).json.connectors).toMatchObject([{ connectorId: 1, status: last }]);
  }, 180_000);

  it("two managers, one killed: the survivor owns every station, answers every CALL of the burst, and keeps one transaction each", async () => {
    const testDb: TestDb = await createTestDb();
    cleanups.push(() => testDb.close());
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const prefix = `cs-dur2-${randomBytes(3).toString("hex")}`;
    const env = (id: string) => ({
      MQTT_URL: broker.url,
      DATABASE_URL: testDb.url!,
      CSMS_MANAGER_ID: id,
      CSMS_MANAGER_AFFINITY: "station",
      CSMS_API_TOKEN: TOKEN,
      CSMS_MANAGER_PORT: "0",
      CSMS_TOPIC_PREFIX: prefix,
      CSMS_ACCEPT_UNKNOWN_TOKENS: "1",
    });
    const tag = randomBytes(2).toString("hex");
    const victim = await startManagerProcess(env(`v${tag}`));
    const survivor = await startManagerProcess(env(`s${tag}`));
    const members = async () => metricValue(await (await fetch(`${survivor.url}/metrics`)).text(), "csms_manager_members");
    await eventually(async () => (await members()) === 2, "the survivor counts two managers", 30_000);
    const gateway: Gateway = await startGateway({ port: 0, mqttUrl: broker.url, topicPrefix: prefix, authenticate: async () => true, callTimeoutMs: 60_000, retryMs: 1000 });
    cleanups.push(() => gateway.close());

    const ids = Array.from({ length: 10 }, (_, i) => `DUA${i}`);
    const clients = await bootStations(gateway.url, ids);
    const PER_STATION = 30;
    const burst = statusBurst(clients, PER_STATION);
    await eventually(() => burst.answered() >= 60, "part of the burst answered", 60_000);
    await kill9(victim.proc);
    const answeredAtKill = burst.answered();
    await eventually(async () => (await members()) === 1, "the survivor counts one manager", 30_000);
    const results = await burst.done;
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(answeredAtKill).toBeLessThan(ids.length * PER_STATION);
    expect(burst.answered()).toBe(ids.length * PER_STATION);
    const http = api(survivor.url, TOKEN);
    const last = STATUSES[(PER_STATION - 1) % STATUSES.length];
    for (const id of ids) expect((await http.get(`/api/v0/stations/${id}`)).json.connectors).toMatchObject([{ connectorId: 1, status: last }]);
    // A transaction on every station, the victim's former ones included: one row each.
    for (const c of clients) await c.call("StartTransaction", { connectorId: 1, idTag: "T1", meterStart: 0, timestamp: new Date().toISOString() });
    const active = (await http.get(`/api/v0/transactions?active=true&limit=100`)).json.items as { stationId: string }[];
    expect(active.map((t) => t.stationId).sort()).toEqual([...ids].sort());
  }, 180_000);
});
