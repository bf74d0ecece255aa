import net, { type AddressInfo } from "node:net";

/**
 * A port that was free a moment ago, for processes that cannot be told to bind port 0 and
 * report back (a private mosquitto, the launcher's console). Tests only.
 */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
