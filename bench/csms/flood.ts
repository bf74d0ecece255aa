import WebSocket from "ws";

/**
 * One hostile station for `npm run bench:csms -- --flood` (forked by main.ts): it connects
 * as BENCHFLOOD and sends valid Heartbeats as fast as its socket takes them, reconnecting
 * whenever the gateway closes it, until told to exit. Reports what it sent and how often it
 * was disconnected; its own calls are not part of the measured latencies.
 */
const url = process.argv[2];
let sent = 0;
let answered = 0;
let refused = 0;
let disconnects = 0;
let stopped = false;

const run = () => {
  if (stopped) return;
  const ws = new WebSocket(`${url}/ws/BENCHFLOOD`, ["ocpp1.6"], { headers: { authorization: `Basic ${Buffer.from("BENCHFLOOD:bench-password").toString("base64")}` }, perMessageDeflate: false });
  ws.on("message", (data: Buffer) => {
    const text = data.toString("utf8");
    if (text.startsWith("[3,")) answered++;
    else if (text.includes("SecurityError")) refused++;
  });
  ws.on("open", () => {
    ws.send(JSON.stringify([2, "boot", "BootNotification", { chargePointVendor: "Bench", chargePointModel: "Flood" }]));
    const pump = () => {
      for (let i = 0; i < 2000 && !stopped && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 1 << 20; i++) ws.send(JSON.stringify([2, `f${sent++}`, "Heartbeat", {}]));
      // Yield to the event loop between bursts (the exit message must get through).
      if (!stopped && ws.readyState === WebSocket.OPEN) setTimeout(pump, 5);
    };
    pump();
  });
  ws.on("close", () => {
    disconnects++;
    setTimeout(run, 500);
  });
  ws.on("error", () => {});
};

process.on("message", (m: { type: string }) => {
  if (m.type === "exit") {
    stopped = true;
    process.send!({ type: "flood-report", sent, answered, refused, disconnects });
    setTimeout(() => process.exit(0), 200);
  }
});
run();
