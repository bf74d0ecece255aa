import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import type { PeerMessage } from "../../contracts/flex/api";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../csms/testkit";
import { createPeerBus, type PeerBus } from "./peers";
import { createSigner, generateNodeKeys, importPublicKey } from "./signing";
import { freePort } from "./testkit";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closers.reverse()) await fn();
  closers.length = 0;
});

describe("flex peer link: a peer that is not up yet", () => {
  it("is not a warning until it was reached once; after that a failed delivery is", async () => {
    const port = await freePort();
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const bus: PeerBus = await createPeerBus({
      nodeId: "node-a",
      signer: createSigner(generateNodeKeys()),
      peers: [{ nodeId: "node-b", url: `http://127.0.0.1:${port}`, publicKey: importPublicKey(generateNodeKeys().publicKey) }],
      onMessage: () => {},
      log,
    });
    closers.push(bus.close);
    const offers: PeerMessage = { type: "offers", upserts: [], removed: [], full: true };
    const failures = () => lines.filter((l) => /peer/.test(l.msg));

    // node-b still starting: nobody listens on its port.
    bus.send("node-b", offers);
    await eventually(() => failures().length === 1, "the first delivery failing");
    expect(failures()[0]).toMatchObject({ level: 30, msg: expect.stringMatching(/not reachable yet/) });

    // node-b up: the delivery lands.
    let received = 0;
    const server = http.createServer((req, res) => {
      received++;
      req.resume();
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    bus.send("node-b", offers);
    await eventually(() => received === 1 && bus.peers()[0].connected, "a delivery reaching node-b");
    expect((server.address() as AddressInfo).port).toBe(port);

    // node-b gone after it was reached: that is a warning.
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    bus.send("node-b", offers);
    await eventually(() => failures().length === 2, "the delivery after node-b went away failing");
    expect(failures()[1]).toMatchObject({ level: 40, msg: "peer delivery failed" });
  });
});
