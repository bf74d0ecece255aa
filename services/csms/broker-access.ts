import { csmsTopics } from "../../contracts/csms/mqtt";
import type { AccessTable } from "../site/acl";

/** The broker usernames of the charging domain's components. */
export const CSMS_COMPONENTS = { gateway: "csms-gateway", manager: "csms-manager" } as const;

/**
 * Who may publish and read what on the charging topics (services/csms/README.md § Topics):
 * a station's commands (`out`) can only come from a manager, its traffic (`in`) and
 * presence only from a gateway, a feed only from the manager it is named after, and the
 * console reads everything and writes nothing. A gateway's MQTT client id is its gateway
 * id and a manager's is its manager id, which is what `%c` binds.
 */
export const csmsBrokerAccess = (prefix: string): AccessTable => {
  const t = csmsTopics(prefix);
  return {
    [CSMS_COMPONENTS.gateway]: {
      publish: [t.inWildcard, t.presenceWildcard, t.gateway("%c")],
      subscribe: [t.outWildcard, t.presenceWildcard],
    },
    [CSMS_COMPONENTS.manager]: {
      // Replies are forwarded to the manager that sent the call, so any manager's reply topic.
      publish: [t.outWildcard, t.feed("%c"), t.replyWildcard, t.probe("%c")],
      subscribe: [t.inWildcard, t.presenceWildcard, t.gatewayWildcard, t.feedWildcard, t.reply("%c"), t.probe("%c")],
    },
    console: { publish: [], subscribe: [t.all] },
  };
};
