import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { CONNECTOR_STATUSES, ZStationView, type StationView } from "../../contracts/csms/api";

/**
 * A stand-in CSMS manager for the console bench: the manager's contract (stations snapshot
 * + SSE feed of `station` events, services/csms/manager/API.md) with N stations held in
 * memory, and a changer that rewrites a share of them every second. It exists so a console
 * bench can show 50,000 stations without 50,000 websockets; it is not the manager, and
 * says nothing about the manager's own cost (bench:csms measures that).
 */
export type FakeManager = {
  url: string;
  token: string;
  /** A fresh fleet of `n` stations under a new epoch: the console resyncs from a snapshot. */
  reset: (n: number) => void;
  /** Stations changed per second (0 stops changes). */
  setRate: (perSecond: number) => void;
  stats: () => { stations: number; events: number; streams: number; snapshots: number };
  close: () => Promise<void>;
};

const iso = (ms: number) => new Date(ms).toISOString();

const makeStation = (i: number, now: number): StationView => {
  const id = `BENCH${String(i).padStart(6, "0")}`;
  const connectors = [1, 2].map((c) => ({ evseId: c, connectorId: c, status: "Available", errorCode: "NoError", updatedAt: iso(now) }));
  return {
    id,
    protocol: i % 3 === 0 ? "ocpp2.0.1" : "ocpp1.6",
    online: i % 50 !== 0,
    lastSeenAt: iso(now - (i % 60) * 1000),
    bootedAt: iso(now - 3600_000),
    heartbeatIntervalSec: 60,
    vendor: ["Acme", "Volta", "Northwind"][i % 3]!,
    model: ["Wallbox 11", "Pillar 22", "DC 50"][i % 3]!,
    firmwareVersion: "1.2.3",
    serialNumber: `SN-${i.toString(36).toUpperCase()}`,
    gateway: "bench",
    connectors,
    activeTransactionIds: [],
    powerW: null,
    energyTodayWh: 0,
  };
};

const STATUSES = CONNECTOR_STATUSES.filter((s) => s !== "Occupied");

/** One station's next state: a heartbeat, a meter value or a status change. */
const change = (s: StationView, now: number, rnd: () => number): StationView => {
  const r = rnd();
  const connectors = s.connectors.map((c) => ({ ...c }));
  if (r < 0.2) {
    const c = connectors[Math.floor(rnd() * connectors.length)]!;
    c.status = STATUSES[Math.floor(rnd() * STATUSES.length)]!;
    c.updatedAt = iso(now);
  }
  const charging = connectors.filter((c) => c.status === "Charging").length;
  return {
    ...s,
    online: true,
    lastSeenAt: iso(now),
    connectors,
    activeTransactionIds: charging ? [`${s.id}-tx`] : [],
    powerW: charging ? Math.round(7000 + rnd() * 15000) : 0,
    energyTodayWh: s.energyTodayWh + (charging ? Math.round(rnd() * 500) : 0),
  };
};

export const startFakeManager = async ({ port = 0, seed = 1 }: { port?: number; seed?: number } = {}): Promise<FakeManager> => {
  const token = randomBytes(18).toString("base64url");
  let epoch = randomBytes(6).toString("hex");
  let seq = 0;
  let stations: StationView[] = [];
  let events = 0;
  let snapshots = 0;
  let rate = 0;
  let carry = 0;
  let cursor = 0;
  let state = seed;
  const rnd = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const streams = new Set<http.ServerResponse>();

  const send = (res: http.ServerResponse, event: string, data: unknown, id?: string) =>
    res.write(`${id ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "unauthorized", message: "bad token" }));
      return;
    }
    if (url.pathname === "/api/v0/stations/snapshot") {
      snapshots++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ epoch, seq, stations }));
      return;
    }
    if (url.pathname === "/api/v0/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.flushHeaders();
      const last = req.headers["last-event-id"];
      // Another epoch (a reset since): the console must take a fresh snapshot.
      if (typeof last === "string" && !last.startsWith(`${epoch}.`)) send(res, "resync", {});
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not_found", message: `${url.pathname}: not in the fake manager` }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const TICK_MS = 100;
  const ticker = setInterval(() => {
    const now = Date.now();
    carry += (rate * TICK_MS) / 1000;
    const n = Math.floor(carry);
    carry -= n;
    for (let k = 0; k < n && stations.length; k++) {
      cursor = (cursor + 7919) % stations.length;
      const next = change(stations[cursor]!, now, rnd);
      stations[cursor] = next;
      seq++;
      events++;
      for (const res of streams) send(res, "station", next, `${epoch}.${seq}`);
    }
  }, TICK_MS);
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(": keep-alive\n\n");
  }, 10_000);

  return {
    url,
    token,
    reset: (n) => {
      const now = Date.now();
      stations = Array.from({ length: n }, (_, i) => makeStation(i + 1, now));
      // The fleet must meet the contract the console checks every station against.
      ZStationView.parse(stations[0]);
      epoch = randomBytes(6).toString("hex");
      seq = 0;
      for (const res of streams) send(res, "resync", {});
    },
    setRate: (perSecond) => {
      rate = perSecond;
    },
    stats: () => ({ stations: stations.length, events, streams: streams.size, snapshots }),
    close: async () => {
      clearInterval(ticker);
      clearInterval(keepAlive);
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
