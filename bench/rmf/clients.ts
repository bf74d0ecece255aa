import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { Histogram, type HistogramData } from "../csms/hist";

/**
 * One load process of `bench:rmf`: `count` clients, each subscribed to `rooms` fleet-state
 * rooms, measuring event → client latency from the robots' own `unix_millis_time`
 * (stamped by the simulator when it publishes; same machine clock).
 *
 * `raw` clients (the default) speak socket.io v4 over a bare websocket with hand-built
 * frames and read the stamp without parsing the whole payload, so the load generator
 * leaves the CPU to the servers under test; `socket.io` clients use socket.io-client and
 * parse every event, as a real consumer would.
 */
export type ClientsInit = { urls: string[]; first: number; count: number; fleets: string[]; roomsPerClient: number; token: string; connectPerSec: number; kind: "raw" | "socket.io" };
export type ClientsReport = { connected: number; subscribed: number; errors: number; deliveries: number; robotUpdates: number; hist: HistogramData; disconnects: number };

const init = JSON.parse(process.env.BENCH_RMF_CLIENTS ?? "{}") as ClientsInit;
const hist = new Histogram();
let measuring = false;
let deliveries = 0;
let robotUpdates = 0;
let errors = 0;
let subscribed = 0;
let disconnects = 0;
const sockets: { connected: boolean; close: () => void }[] = [];

const send = (msg: unknown) => process.send?.(msg);

const STAMP = '"unix_millis_time":';
const openRaw = (i: number) => {
  const n = init.first + i;
  const rooms = Array.from({ length: init.roomsPerClient }, (_, k) => `/fleets/${init.fleets[(n + k) % init.fleets.length]}/state`);
  const handle = { connected: false, close: () => ws.close() };
  sockets.push(handle);
  const ws = new WebSocket(`${init.urls[n % init.urls.length].replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
  ws.on("message", (data) => {
    const s = data.toString();
    if (s === "2") return ws.send("3");
    if (s.startsWith("42[")) {
      if (!measuring) return;
      const now = Date.now();
      deliveries += 1;
      let at = s.indexOf(STAMP);
      const stamp = at >= 0 ? Number(s.slice(at + STAMP.length, s.indexOf(",", at))) : 0;
      for (; at >= 0; at = s.indexOf(STAMP, at + 1)) robotUpdates += 1;
      if (stamp) hist.record(now - stamp);
      return;
    }
    if (s.startsWith("43")) return void (s.includes('"success":true') ? (subscribed += 1) : (errors += 1));
    if (s[0] === "0") return ws.send(`40${JSON.stringify({ token: init.token })}`);
    if (s.startsWith("40")) {
      handle.connected = true;
      rooms.forEach((room, k) => ws.send(`42${k}${JSON.stringify(["subscribe", { room }])}`));
      return;
    }
    if (s.startsWith("44")) errors += 1;
  });
  ws.on("close", () => {
    if (handle.connected) disconnects += 1;
    handle.connected = false;
  });
  ws.on("error", () => (errors += 1));
};

const openSocketIo = (i: number) => {
  const n = init.first + i;
  const socket: Socket = io(init.urls[n % init.urls.length], { transports: ["websocket"], auth: { token: init.token }, reconnection: true, forceNew: true });
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

const open = init.kind === "socket.io" ? openSocketIo : openRaw;
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
