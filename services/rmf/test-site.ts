import { logger } from "../../lib/log";
import { startRmfSim, type RmfSim } from "../../sim/rmf/rmf-sim";
import { startProxy, type RmfProxy } from "./proxy/proxy";
import { INTERNAL_TOKEN, ISSUER, SECRET, startTestMain } from "./testkit";

/**
 * For the console's tests: a whole robots upstream on free ports, as the embedded site runs
 * it — RMF main, one fan-out proxy, and a quiet, fast fleet simulator (no random events, no
 * automatic tasks). Tokens use testkit's SECRET / ISSUER.
 */
export const startRmfTestSite = async ({ robots = 2, speed = 20 }: { robots?: number; speed?: number } = {}) => {
  const { main, testDb } = await startTestMain();
  const launchProxy = (port = 0) => startProxy({ port, mainUrl: main.url, jwtSecret: SECRET, jwtIssuer: ISSUER, proxyId: "test-proxy", log: logger() });
  const site = {
    main,
    proxy: await launchProxy(),
    sim: undefined as RmfSim | undefined,
    launchProxy,
    /** Closes the proxy and starts a new one on the same port (what a client sees as a reconnect). */
    restartProxy: async () => {
      const port = Number(new URL(site.proxy.url).port);
      await site.proxy.close();
      site.proxy = await launchProxy(port);
      return site.proxy;
    },
    close: async () => {
      await site.sim?.close();
      await site.proxy.close();
      await main.close();
      await testDb.close();
    },
  };
  site.sim = await startRmfSim({ mainUrl: main.url, token: INTERNAL_TOKEN, robots, fleets: 1, seed: 3, randomEvents: false, autoTaskEverySec: 0, speed, log: logger() });
  return site as typeof site & { proxy: RmfProxy };
};
export type RmfTestSite = Awaited<ReturnType<typeof startRmfTestSite>>;
