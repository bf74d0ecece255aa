import { fork } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";

/**
 * The floor under bench:flex (c) on this machine: no MQTT, no broker, no node. One process
 * writes 700 bytes (an activation's size) to each of N loopback TCP sockets at once; N/4
 * sockets in each of 4 child processes echo it back; per round it prints when the echoes
 * arrived. (c) crosses the broker, so its messages take two such hops each way.
 *
 *   npm run bench:flex-floor -- [devices=10000] [rounds=5]
 */
const PROCS = 4;
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === "child") {
  const [port, n] = [Number(process.argv[3]), Number(process.argv[4])];
  let open = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port, host: "127.0.0.1", noDelay: true });
    s.on("connect", () => {
      if (++open === n) process.send!("ready");
    });
    s.on("data", (d) => s.write(d));
  }
  process.on("disconnect", () => process.exit(0));
} else {
  const devices = Number(process.argv[2] ?? 10_000);
  const rounds = Number(process.argv[3] ?? 5);
  const sockets: net.Socket[] = [];
  const at: number[] = [];
  let t0 = 0;
  const server = net.createServer({ noDelay: true }, (s) => {
    sockets.push(s);
    s.on("data", () => at.push(performance.now() - t0));
  });
  server.listen({ port: 0, host: "127.0.0.1", backlog: 16_384 }, async () => {
    const { port } = server.address() as net.AddressInfo;
    const children = Array.from({ length: PROCS }, () => fork(here, ["child", String(port), String(Math.ceil(devices / PROCS))], { execArgv: ["--import", "tsx"] }));
    await Promise.all(children.map((c) => new Promise((r) => c.once("message", r))));
    await new Promise((r) => setTimeout(r, 500));
    const payload = Buffer.alloc(700, "x");
    const pct = (q: number) => at[Math.min(at.length - 1, Math.floor(at.length * q))].toFixed(0);
    console.log(`### bare loopback TCP: 700 bytes to each of ${sockets.length} sockets in ${PROCS} processes and back (no MQTT, no broker)`);
    console.log("| round | echoes | p50 ms | p99 ms | last ms | sender CPU ms (user + system) |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (let round = 1; round <= rounds; round++) {
      at.length = 0;
      const cpu = process.cpuUsage();
      t0 = performance.now();
      for (const s of sockets) s.write(payload);
      while (at.length < sockets.length) await new Promise((r) => setImmediate(r));
      const used = process.cpuUsage(cpu);
      at.sort((a, b) => a - b);
      console.log(`| ${round} | ${at.length} | ${pct(0.5)} | ${pct(0.99)} | ${at.at(-1)!.toFixed(0)} | ${((used.user + used.system) / 1000).toFixed(0)} |`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const c of children) c.kill();
    process.exit(0);
  });
}
