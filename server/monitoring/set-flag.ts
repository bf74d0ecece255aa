import "server-only";
import type { FeatureName } from "../../contracts/monitoring";
import { submitCommand } from "../commands/submit-command";
import { requireConnector } from "../connectors/kit/registry";
import type { Db } from "../db";
import type { SessionUser } from "../trpc/init";
import { toReply } from "./alarm-action";
import { scopeOf } from "./regions";

/**
 * Switches one feature flag of the monitoring service on the command path (Command row,
 * outcome, audit); the service publishes the new set on `system.feature` and every
 * consumer applies it live. The connector's feed then brings the new set to every page.
 */
export const setFlag = ({ db, user, traceId, name, enabled, idempotencyKey }: { db: Db; user: SessionUser; traceId: string; name: FeatureName; enabled: boolean; idempotencyKey: string }) => {
  const { client } = requireConnector("monitoring");
  return submitCommand({
    db,
    actor: user,
    traceId,
    idempotencyKey,
    domain: "monitoring",
    target: `flag:${name}`,
    action: "flag.set",
    payload: { name, enabled },
    waitForOutcome: true,
    send: async (_command, signal) => {
      try {
        return { status: "accepted", result: await client.setFlag(scopeOf(user), name, enabled, signal) };
      } catch (error) {
        return toReply(error, `flag ${name}`);
      }
    },
  });
};
