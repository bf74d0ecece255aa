/** Starts the upstream connectors once per server process, before the first request. */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before the first request: every client address the console records starts from this.
  const { recordSocketPeers } = await import("./server/http/socket-peer");
  recordSocketPeers();
  if (process.env.SWITCHYARD_NO_CONNECTORS === "1") return;
  const { startConnectors } = await import("./server/connectors");
  const { setCommandSnapshot } = await import("./server/commands/command-feed");
  const { db } = await import("./server/db");
  const { toCommandView } = await import("./server/commands/command-feed");
  const { reconcileOrphanedCommands } = await import("./server/commands/reconcile-commands");
  setCommandSnapshot(async () => (await db().command.findMany({ orderBy: { createdAt: "desc" }, take: 100 })).map(toCommandView));
  const reconcile = () => reconcileOrphanedCommands(db()).catch(() => {});
  await reconcile();
  setInterval(reconcile, 60_000).unref();
  startConnectors();
}
