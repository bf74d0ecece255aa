import { randomBytes } from "node:crypto";
import { connectAsync } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SITE_TOPICS } from "../../../contracts/site";
import { startSite, type Site } from "../../../services/site/site";
import { commandFeed, type CommandView } from "../../commands/command-feed";
import { createTestDb, usingServices, type TestDb } from "../../../lib/testing/db";
import { createTestUser, makeContext } from "../../testing/context";
import { createCallerFactory } from "../../trpc/init";
import { appRouter } from "../../trpc/routers/_app";
import { setBrokerLink } from "..";
import { UpstreamHealth, type LinkState } from "../health";
import { connectBrokerLink, type BrokerLink } from "./broker-link";

const waitFor = async (check: () => boolean, what: string, timeoutMs = 15_000) => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const SYSTEM_BROKER = "mqtt://127.0.0.1:1883";
// Fixed for the test, so a restarted site accepts the console's account again.
const accounts = { console: { username: "console", password: `console-${randomBytes(12).toString("hex")}` } };

describe.each(usingServices() ? ["embedded", "system"] : ["embedded"])("console ⇄ broker ⇄ site over real MQTT (%s broker)", (mode) => {
  let t: TestDb;
  let site: Site;
  let link: BrokerLink;
  const health = new UpstreamHealth();
  const state = (id: string) => health.get(id)?.state as LinkState | undefined;

  beforeAll(async () => {
    t = await createTestDb();
    site = await startSite({ mqttPort: 0, httpPort: 0, heartbeatMs: 200, accounts, ...(mode === "system" ? { mqttUrl: SYSTEM_BROKER } : {}) });
    link = connectBrokerLink({ url: site.mqttUrl, ...accounts.console, health, downAfterMs: 1500, siteStaleMs: 1500 });
    setBrokerLink(link);
  });
  afterAll(async () => {
    setBrokerLink(undefined);
    await link?.close();
    await site?.close();
    await t?.close();
  });

  it("shows the broker and the site as connected, with live message times", async () => {
    await waitFor(() => state("mqtt") === "connected" && state("site") === "connected", "both links connected");
    expect(health.get("site")!.lastMessageAt).toBeGreaterThan(Date.now() - 5000);
  });

  it("runs a control action end to end: command row, MQTT round trip to the site, outcome, audit", async () => {
    const support = await createTestUser(t.db, "support");
    const caller = createCallerFactory(appRouter)(makeContext(t.db, support));
    const outcomes = new Map<string, CommandView>();
    const off = commandFeed().listen((c) => c.data && outcomes.set(c.key, c.data as CommandView));
    const { command } = await caller.system.pingSite({ idempotencyKey: "ping-key-0001" });
    await waitFor(() => outcomes.get(command.id)?.status === "accepted", "ping accepted");
    off();
    const row = await t.db.command.findUniqueOrThrow({ where: { id: command.id } });
    expect(row).toMatchObject({ status: "accepted", domain: "system", target: "site", action: "ping", actorId: support.id });
    expect((row.result as { roundTripMs: number }).roundTripMs).toBeGreaterThanOrEqual(0);
    const audits = await t.db.auditEntry.findMany({ where: { actorId: support.id }, orderBy: { id: "asc" } });
    expect(audits.map((a) => [a.action, a.outcome])).toEqual([
      ["system.pingSite", "ok"],
      ["command.system.ping.outcome", "ok"],
    ]);
  });

  it.runIf(mode === "embedded")("drops site messages that break contracts/site: a malformed heartbeat never counts as the site being alive", async () => {
    // The site's own account is the only one allowed to publish there; a broken site is what this simulates.
    const forger = await connectAsync(site.mqttUrl, { clientId: `broken-site-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0, ...site.credentials("site") });
    try {
      const before = link.dropped();
      await forger.publishAsync(SITE_TOPICS.heartbeat, JSON.stringify({ at: "yesterday", services: 5 }), { qos: 1 });
      await forger.publishAsync(SITE_TOPICS.heartbeat, "not json", { qos: 1 });
      await waitFor(() => link.dropped() >= before + 2, "both dropped");
    } finally {
      await forger.endAsync(true);
    }
  });

  it.runIf(mode === "embedded")("has a read-only account: it may not read everything nor forge the site's status", async () => {
    await expect(link.client.subscribeAsync("#", { qos: 0 })).rejects.toThrow(/Subscribe error/);
    const sneaky = await connectAsync(site.mqttUrl, { clientId: `sneaky-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0, ...accounts.console });
    const closed = new Promise<void>((resolve) => sneaky.once("close", () => resolve()));
    sneaky.publish(SITE_TOPICS.status, JSON.stringify({ state: "offline", startedAt: 1, pid: 1, reason: "forged" }), { qos: 1, retain: true });
    await closed; // the embedded broker closes a connection that publishes outside its access
    await sneaky.endAsync(true);
    expect(state("site")).toBe("connected");
  });

  it.runIf(mode === "embedded")("reports reconnecting, then down, when the broker goes away, and recovers when it is back", async () => {
    const port = Number(new URL(site.mqttUrl).port);
    await site.close();
    await waitFor(() => state("mqtt") === "reconnecting" || state("mqtt") === "down", "reconnecting");
    await waitFor(() => state("mqtt") === "down", "down");
    expect(state("site")).toBe("down");
    site = await startSite({ mqttPort: port, httpPort: 0, heartbeatMs: 200, accounts });
    await waitFor(() => state("mqtt") === "connected" && state("site") === "connected", "reconnected");
  });
});
