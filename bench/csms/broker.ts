import net, { type AddressInfo } from "node:net";
import { Aedes } from "aedes";

/**
 * An embedded aedes MQTT broker in its own process, for `--broker embedded`. Listens on a
 * free port of 127.0.0.1 and prints one ready line with its URL. No persistence; QoS 0/1,
 * retained messages and MQTT 5 are whatever aedes supports.
 */
const main = async () => {
  const broker = await Aedes.createBroker();
  // No Nagle: request/response traffic would otherwise sit in delayed-ACK waits.
  const server = net.createServer({ noDelay: true }, broker.handle);
  broker.on("clientError", () => {});
  broker.on("connectionError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.stdout.write(`${JSON.stringify({ event: "ready", service: "bench-broker", url, pid: process.pid })}\n`);
  const stop = () => {
    setTimeout(() => process.exit(0), 2000).unref();
    broker.close(() => server.close(() => process.exit(0)));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`bench broker failed: ${(error as Error).message}\n`);
  process.exit(1);
});
