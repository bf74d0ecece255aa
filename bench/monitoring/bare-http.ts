import http from "node:http";

/** Baseline for the ingest: a bare node:http server that reads and parses the body, nothing else. */
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { datasets: unknown[] };
    const text = JSON.stringify({ status: "200", message: "ok", details: [{ message: "Data queued for processing.", target: `datasets:${body.datasets.length}` }] });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ event: "ready", url: `http://127.0.0.1:${address.port}` })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
