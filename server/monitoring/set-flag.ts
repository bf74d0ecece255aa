import "server-only";
import type { FeatureName } from "../../contracts/monitoring";
import { requireConnector } from "../connectors/kit/registry";
import type { Db } from "../db";
import type { SessionUser } from "../trpc/init";
import { submitMonitoringCommand } from "./alarm-action";
import { scopeOf } from "./regions";

/**
 * Switches one feature flag of the monitoring service on the command path (Command row,
 * outcome, audit); the service publishes the new set on `system.feature` and every
 * consumer applies it live. The connector's feed then brings the new set to every page.
 */
export const setFlag = ({ db, user, traceId, name, enabled, idempotencyKey }: { db: Db; user: SessionUser; traceId: string; name: FeatureName; enabled: boolean; idempotencyKey: string }) => {
  const { client } = requireConnector("monitoring");
  return submitMonitoringCommand({
    db,
    user,
    traceId,
    idempotencyKey,
    target: `flag:${name}`,
    action: "flag.set",
    payload: { name, enabled },
    what: `flag ${name}`,
    call: (signal) => client.setFlag(scopeOf(user), name, enabled, signal),
  });
};
