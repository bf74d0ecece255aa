import "server-only";
import { submitCommand, type CommandActor } from "../commands/submit-command";
import { brokerLink } from "../connectors";
import { pingSite } from "../connectors/mqtt/ping-site";
import type { Db } from "../db";

/**
 * A control action that goes all the way through the command path: a ping to the site
 * process over MQTT, answered by the site. It proves the command plumbing end to end.
 */
export const submitSitePing = ({ db, actor, traceId, idempotencyKey }: { db: Db; actor: CommandActor; traceId: string; idempotencyKey: string }) =>
  submitCommand({
    db,
    actor,
    traceId,
    idempotencyKey,
    domain: "system",
    target: "site",
    action: "ping",
    payload: {},
    timeoutMs: 5000,
    send: async (cmd, signal) => {
      const link = brokerLink();
      if (!link) throw new Error("the console has no MQTT connection");
      return pingSite(link.client, cmd.id, signal);
    },
  });
