import { EventEmitter } from "node:events";
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { STATION_ACTIONS, type OcppVersion } from "../../../contracts/csms/mqtt";
import { createStationConnections } from "./connection";
import { fakeGateway } from "./fake-context";

/** connection.ts on its own: fake station sockets (ocpp-rpc server clients) and a recording MQTT link. */

const fakeClient = (identity: string, protocol: OcppVersion = "ocpp1.6") => {
  const handled: string[] = [];
  const closes: { code?: number; reason?: string }[] = [];
  const client = Object.assign(new EventEmitter(), {
    identity,
    protocol,
    handle: (action: string) => void handled.push(action),
    sendRaw: () => {},
    close: async (o: { code?: number; reason?: string }) => {
      closes.push(o);
      client.emit("close", o);
    },
  });
  return { client: client as unknown as RPCServerClient, handled, closes };
};

const setup = () => {
  const gw = fakeGateway({ offlineLingerMs: 60_000 });
  const connections = createStationConnections(gw.ctx, gw.link);
  return { ...gw, ...connections };
};

afterEach(() => {
  vi.useRealTimers();
});

describe("station connections", () => {
  it("subscribes, handles every station action of its protocol and announces the station online", async () => {
    const s = setup();
    const a = fakeClient("S1", "ocpp2.0.1");
    await s.attachClient(a.client);
    expect(s.subscriptions.subscribed).toEqual(["S1"]);
    expect(a.handled).toEqual([...STATION_ACTIONS["ocpp2.0.1"]]);
    expect(s.presence).toEqual([{ stationId: "S1", online: true }]);
    expect(s.ctx.stations.get("S1")?.session?.open).toBe(true);
  });

  it("replaces an older socket of the same station without announcing it offline", async () => {
    const s = setup();
    const a = fakeClient("S1");
    const b = fakeClient("S1");
    await s.attachClient(a.client);
    await s.attachClient(b.client);
    expect(a.closes).toEqual([{ code: 1000, reason: "replaced by a newer connection" }]);
    expect(s.presence).toEqual([
      { stationId: "S1", online: true },
      { stationId: "S1", online: true },
    ]);
    // One subscription for the station, kept across sockets.
    expect(s.subscriptions.subscribed).toEqual(["S1"]);
  });

  it("announces a closed station offline, lingers, and then lets its subscriptions go", async () => {
    vi.useFakeTimers();
    const s = setup();
    const a = fakeClient("S1");
    await s.attachClient(a.client);
    const pending = { action: "Heartbeat", resolve: vi.fn(), reject: vi.fn() };
    s.ctx.stations.get("S1")!.session!.pending.set("m1", pending);
    a.client.emit("close", { code: 1006 });
    expect(pending.reject).toHaveBeenCalledWith(new Error("station disconnected"));
    expect(s.presence.at(-1)).toEqual({ stationId: "S1", online: false, reason: "closed" });
    vi.advanceTimersByTime(59_000);
    expect(s.ctx.stations.has("S1")).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(s.ctx.stations.has("S1")).toBe(false);
    expect(s.subscriptions.unsubscribed).toEqual(["S1"]);
  });

  it("keeps the subscriptions when the station is back within the linger", async () => {
    vi.useFakeTimers();
    const s = setup();
    await s.attachClient(fakeClient("S1").client);
    s.ctx.stations.get("S1")!.session!.client.emit("close", { code: 1006 });
    await s.attachClient(fakeClient("S1").client);
    vi.advanceTimersByTime(120_000);
    expect(s.ctx.stations.get("S1")?.session?.open).toBe(true);
    expect(s.subscriptions.unsubscribed).toEqual([]);
  });

  it("closes the socket with 1011 when the broker refuses the subscription, and forgets the entry", async () => {
    const s = setup();
    s.subscriptions.fail = true;
    const a = fakeClient("S1");
    await s.attachClient(a.client);
    expect(a.closes).toEqual([{ code: 1011, reason: "gateway cannot reach the CSMS" }]);
    expect(s.ctx.stations.has("S1")).toBe(false);
    expect(s.presence.filter((p) => p.online)).toEqual([]);
  });

  it("releases a station that connected to another gateway, ignoring retained and own announcements", async () => {
    const s = setup();
    const a = fakeClient("S1");
    await s.attachClient(a.client);
    const announce = (body: unknown, retained = false) => s.onPresence("S1", Buffer.from(JSON.stringify(body)), retained);
    const elsewhere = { online: true, gateway: "gw-other", protocol: "ocpp1.6", at: Date.now(), session: "other-session" };
    announce(elsewhere, true);
    announce({ ...elsewhere, gateway: s.ctx.gatewayId });
    announce({ ...elsewhere, online: false });
    s.onPresence("S1", Buffer.from("{nope"), false);
    expect(a.closes).toEqual([]);
    announce(elsewhere);
    expect(a.closes).toEqual([{ code: 1000, reason: "connected elsewhere" }]);
    expect(s.ctx.stations.has("S1")).toBe(false);
    expect(s.subscriptions.unsubscribed).toEqual(["S1"]);
    // Superseded: no offline announcement for a station that is online elsewhere.
    expect(s.presence).toEqual([{ stationId: "S1", online: true }]);
  });
});
