import fs from "node:fs";
import path from "node:path";
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logger } from "../../lib/log";
import type { TestDb } from "../../lib/testing/db";
import type { RmfMain } from "./main/server";
import { startProxy, type RmfProxy } from "./proxy/proxy";
import { eventually, ISSUER, openFeed, SECRET, startTestBridge, startTestMain } from "./testkit";

/**
 * Compatibility: a client written from reference/rmf.md alone (socket.io-client + fetch, a
 * JWT signed by hand, no Switchyard types) against main and against a proxy. Both must give
 * it identical sticky snapshots and identical updates, in rmf-web's exact payload shapes
 * (the reference examples in fixtures/).
 */
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------- the reference client: nothing below imports from contracts/rmf ----------
const referenceToken = (claims: Record<string, unknown>) =>
  new SignJWT({ preferred_username: "compat", ...claims }).setProtectedHeader({ alg: "HS256" }).setAudience("rmf_api_server").setIssuer(ISSUER).setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));

type ReferenceClient = { socket: Socket; seen: Map<string, unknown[]>; subscribe: (room: string) => void; close: () => void };
const referenceClient = async (url: string, jwt: string): Promise<ReferenceClient> => {
  const socket = io(url, { path: "/socket.io", auth: { token: jwt }, transports: ["websocket"], forceNew: true });
  const seen = new Map<string, unknown[]>();
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return {
    socket,
    seen,
    // As rmf-web's dashboard does: listen on the room's event, then emit subscribe, no ack asked.
    subscribe: (room) => {
      seen.set(room, []);
      socket.on(room, (data: unknown) => seen.get(room)!.push(data));
      socket.emit("subscribe", { room });
    },
    close: () => void socket.close(),
  };
};
const rest = async (base: string, jwt: string, p: string) => (await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${jwt}` } })).json();
// ------------------------------------------------------------------------------------------

const STICKY: [string, string][] = [
  ["/building_map", "rooms/building_map.json"],
  ["/building_map/fire_alarm_trigger", "rooms/fire_alarm_trigger.json"],
  ["/doors/main_door/state", "rooms/door_state.json"],
  ["/lifts/Lift1/state", "rooms/lift_state.json"],
  ["/dispensers/coke_dispenser/state", "rooms/dispenser_state.json"],
  ["/ingestors/coke_ingestor/state", "rooms/ingestor_state.json"],
  ["/fleets/tinyRobot/state", "rooms/fleet_state.json"],
  ["/tasks/patrol-6f1c/state", "rooms/task_state.json"],
];
const STREAMS: [string, string][] = [
  ["/fleets/tinyRobot/log", "rooms/fleet_log.json"],
  ["/tasks/patrol-6f1c/log", "rooms/task_log.json"],
  ["/alerts/requests", "rooms/alert_request.json"],
  ["/alerts/responses", "rooms/alert_response.json"],
  ["/beacons", "rooms/beacon_state.json"],
  ["/rios", "rooms/rio.json"],
  ["/delivery_alerts", "rooms/delivery_alert.json"],
];

let main: RmfMain;
let testDb: TestDb;
let proxy: RmfProxy;
let adapter: Awaited<ReturnType<typeof openFeed>>;
let rmf: Awaited<ReturnType<typeof startTestBridge>>;
let onMain: ReferenceClient;
let onProxy: ReferenceClient;
let jwt: string;

beforeAll(async () => {
  ({ main, testDb } = await startTestMain());
  proxy = await startProxy({ port: 0, mainUrl: main.url, jwtSecret: SECRET, jwtIssuer: ISSUER, log: logger() });
  adapter = await openFeed(main.url, "/_internal");
  rmf = await startTestBridge(main, () => undefined);
  jwt = await referenceToken({ permissions: ["task_read", "task_submit", "admin"] });
  // RMF's side, in the reference's own shapes: what the adapters send leaves optional fields out.
  for (const m of ["fleet_state_update", "task_state_update"]) adapter.send(fixture(`internal/${m}.json`));
  rmf.publish("map", fixture("rooms/building_map.json"));
  rmf.publish("fire_alarm_trigger", fixture("rooms/fire_alarm_trigger.json"));
  rmf.publish("door_states", fixture("rooms/door_state.json"));
  rmf.publish("lift_states", fixture("rooms/lift_state.json"));
  rmf.publish("dispenser_states", fixture("rooms/dispenser_state.json"));
  rmf.publish("ingestor_states", fixture("rooms/ingestor_state.json"));
  await eventually(() => main.state.taskInMemory("patrol-6f1c") !== undefined && main.state.stickyOf("fleet_state", "tinyRobot") !== undefined, "adapter states stored");
  await eventually(async () => (await fetch(`${main.url}/ingestors/coke_ingestor/state`, { headers: { authorization: `Bearer ${jwt}` } })).status === 200, "ingestor stored");
  onMain = await referenceClient(main.url, jwt);
  onProxy = await referenceClient(proxy.url, jwt);
});
afterAll(async () => {
  onMain?.close();
  onProxy?.close();
  adapter?.close();
  rmf?.close();
  await proxy?.close();
  await main?.close();
  await testDb?.close();
});

describe("a client written against reference/rmf.md alone", () => {
  it("gets identical sticky snapshots on main and on a proxy, in rmf-web's exact shapes", async () => {
    for (const c of [onMain, onProxy]) for (const [room] of [...STICKY, ...STREAMS]) c.subscribe(room);
    await eventually(() => STICKY.every(([room]) => onMain.seen.get(room)!.length === 1 && onProxy.seen.get(room)!.length === 1), "every sticky snapshot on both");
    for (const [room, file] of STICKY) {
      expect(onProxy.seen.get(room)![0], room).toEqual(onMain.seen.get(room)![0]);
      expect(onMain.seen.get(room)![0], room).toEqual(fixture(file));
    }
  });

  it("gets identical updates on every room kind", async () => {
    // Wait until the proxy holds every room upstream, so both clients are live on all of them.
    await eventually(() => [...STICKY, ...STREAMS].every(([room]) => main.roomSize(room) === 2), "both subscribed everywhere");
    adapter.send(fixture("internal/fleet_log_update.json"));
    adapter.send(fixture("internal/task_log_update.json"));
    rmf.publish("alerts", fixture("rooms/alert_request.json"));
    rmf.publish("beacon_state", fixture("rooms/beacon_state.json"));
    rmf.publish("rio", fixture("rooms/rio.json"));
    rmf.publish("delivery_alert_request", fixture("rooms/delivery_alert.json"));
    const door = { ...fixture("rooms/door_state.json"), current_mode: { value: 0 } };
    rmf.publish("door_states", door);
    await eventually(() => onMain.seen.get("/alerts/requests")!.length === 1 && onProxy.seen.get("/alerts/requests")!.length === 1, "alert on both");
    const res = await fetch(`${proxy.url}/alerts/request/${fixture("rooms/alert_request.json").id}/respond?response=Acknowledge`, { method: "POST", headers: { authorization: `Bearer ${jwt}` } });
    expect(res.status).toBe(201);
    const rooms = [...STREAMS.map(([r]) => r), "/doors/main_door/state"];
    await eventually(() => rooms.every((room) => (room === "/doors/main_door/state" ? 2 : 1) === onMain.seen.get(room)!.length && onMain.seen.get(room)!.length === onProxy.seen.get(room)!.length), "every update on both");
    for (const room of rooms) expect(onProxy.seen.get(room), room).toEqual(onMain.seen.get(room));
    for (const [room, file] of STREAMS) {
      const expected = room === "/alerts/responses" ? { ...fixture(file), unix_millis_response_time: expect.any(Number) } : fixture(file);
      expect(onMain.seen.get(room)![0], room).toEqual(expected);
    }
    expect(onMain.seen.get("/doors/main_door/state")![1]).toEqual(door);
  });

  it("reads the same REST answers through main and through the proxy", async () => {
    for (const p of ["/fleets", "/fleets/tinyRobot/state", "/tasks/patrol-6f1c/state", "/doors", "/lifts", "/dispensers", "/ingestors", "/building_map", "/alerts/unresponded_requests", "/beacons"]) {
      const [a, b] = await Promise.all([rest(main.url, jwt, p), rest(proxy.url, jwt, p)]);
      expect(b, p).toEqual(a);
    }
    expect(await rest(main.url, jwt, "/fleets/tinyRobot/state")).toEqual(fixture("rooms/fleet_state.json"));
    expect(await rest(main.url, jwt, "/tasks/patrol-6f1c/state")).toEqual(fixture("rooms/task_state.json"));
  });

  it("is refused at connect with rmf-web's message when the token is wrong", async () => {
    const bad = io(proxy.url, { auth: { token: "x" }, transports: ["websocket"], forceNew: true, reconnection: false });
    const error = await new Promise<Error>((resolve) => bad.once("connect_error", resolve));
    expect(error.message).toBe("Connection rejected by server");
    bad.close();
  });
});
