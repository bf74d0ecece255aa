/**
 * Starts the upstream connectors once per server process, before the first request, then
 * settles the commands an earlier process left open: at once, and every minute after.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before the first request: every client address the console records starts from this.
  const { recordSocketPeers } = await import("./server/http/socket-peer");
  recordSocketPeers();
  if (process.env.SWITCHYARD_NO_CONNECTORS === "1") return;
  const { startConnectors } = await import("./server/connectors");
  const { setCommandSnapshot, toCommandView } = await import("./server/commands/command-feed");
  const { db } = await import("./server/db");
  const { reconcileCommands } = await import("./server/commands/reconcile-commands");
  setCommandSnapshot(async () => (await db().command.findMany({ orderBy: { createdAt: "desc" }, take: 100 })).map(toCommandView));
  // Connectors first: recovering a command's outcome asks its upstream.
  startConnectors();
  // EV-charger bridges operators chose before this start (each retries until its connectors are up).
  const { restoreStationBridges } = await import("./server/flex/ev-bridge");
  void restoreStationBridges(db()).catch(() => {});
  const reconcile = () => reconcileCommands(db()).catch(() => {});
  await reconcile();
  setInterval(reconcile, 60_000).unref();
}
