import { io, type Socket } from "socket.io-client";
import { Histogram, type HistogramData } from "../csms/hist";

/**
 * One load process of `bench:rmf`: `count` socket.io clients, each subscribed to `rooms`
 * fleet-state rooms, measuring event → client latency from the robots' own
 * `unix_millis_time` (stamped by the simulator when it publishes; same machine clock).
 */
export type ClientsInit = { urls: string[]; first: number; count: number; fleets: string[]; roomsPerClient: number; token: string; connectPerSec: number };
export type ClientsReport = { connected: number; subscribed: number; errors: number; deliveries: number; robotUpdates: number; hist: HistogramData; disconnects: number };

const init = JSON.parse(process.env.BENCH_RMF_CLIENTS ?? "{}") as ClientsInit;
const hist = new Histogram();
let measuring = false;
let deliveries = 0;
let robotUpdates = 0;
let errors = 0;
let subscribed = 0;
let disconnects = 0;
const sockets: Socket[] = [];

const send = (msg: unknown) => process.send?.(msg);

const open = (i: number) => {
  const n = init.first + i;
  const socket = io(init.urls[n % init.urls.length], { transports: ["websocket"], auth: { token: init.token }, reconnection: true, forceNew: true });
  sockets.push(socket);
  const rooms = Array.from({ length: init.roomsPerClient }, (_, k) => `/fleets/${init.fleets[(n + k) % init.fleets.length]}/state`);
  for (const room of rooms)
    socket.on(room, (fleet: { robots?: Record<string, { unix_millis_time?: number }> }) => {
      if (!measuring) return;
      const now = Date.now();
      deliveries += 1;
      let stamp = 0;
      for (const r of Object.values(fleet.robots ?? {})) {
        robotUpdates += 1;
        if ((r.unix_millis_time ?? 0) > stamp) stamp = r.unix_millis_time!;
      }
      if (stamp) hist.record(now - stamp);
    });
  socket.on("connect", () => {
    for (const room of rooms)
      socket
        .timeout(30_000)
        .emitWithAck("subscribe", { room })
        .then(
          (ack: { success: boolean }) => (ack.success ? (subscribed += 1) : (errors += 1)),
          () => (errors += 1),
        );
  });
  socket.on("disconnect", () => (disconnects += 1));
  socket.on("connect_error", () => (errors += 1));
};

const gap = 1000 / init.connectPerSec;
for (let i = 0; i < init.count; i++) setTimeout(() => open(i), i * gap);

const status = setInterval(() => send({ kind: "status", connected: sockets.filter((s) => s.connected).length, subscribed, errors }), 500);

process.on("message", (msg: { kind: string }) => {
  if (msg.kind === "start") {
    measuring = true;
    deliveries = 0;
    robotUpdates = 0;
  }
  if (msg.kind === "stop") {
    measuring = false;
    clearInterval(status);
    const report: ClientsReport = { connected: sockets.filter((s) => s.connected).length, subscribed, errors, deliveries, robotUpdates, hist: hist.toJSON(), disconnects };
    send({ kind: "report", report });
    for (const s of sockets) s.close();
    setTimeout(() => process.exit(0), 200);
  }
});
