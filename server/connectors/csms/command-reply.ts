import "server-only";
import type { ManagerCommandResult } from "../../../contracts/csms/api";
import type { CommandReply } from "../../commands/submit-command";

/**
 * What the manager's answer to a command means for the console's Command, in four distinct
 * outcomes besides acceptance: `rejected` with the station's reason (2.0.1
 * statusInfo.reasonCode, or the 1.6 status it answered), `failed` with the CALLERROR's code
 * and description, `timed_out` when it was sent but never answered, and `offline` when the
 * station was not connected and nothing was sent. The result keeps those fields by name so
 * the browser shows them as fields. The same mapping serves a live answer and one
 * recovered after a console restart.
 */
export const toCommandReply = (answer: ManagerCommandResult, { stationId, action }: { stationId: string; action: string }): CommandReply => {
  const ocppAction = answer.ocppAction ?? action;
  const said = typeof answer.response?.status === "string" ? answer.response.status : undefined;
  // 2.0.1 gives its reason in statusInfo, or per variable for SetVariables / GetVariables.
  const perItem = [answer.response?.setVariableResult, answer.response?.getVariableResult]
    .flatMap((list) => (Array.isArray(list) ? (list as { attributeStatus?: unknown; attributeStatusInfo?: { reasonCode?: unknown; additionalInfo?: unknown } }[]) : []))
    .find((r) => r.attributeStatus !== "Accepted" && r.attributeStatus !== "RebootRequired");
  const info = (answer.response?.statusInfo ?? perItem?.attributeStatusInfo ?? (typeof perItem?.attributeStatus === "string" ? { reasonCode: perItem.attributeStatus } : undefined)) as
    | { reasonCode?: unknown; additionalInfo?: unknown }
    | undefined;
  const reason = answer.reason ?? (typeof info?.reasonCode === "string" ? info.reasonCode : said);
  const reasonDetail = answer.reasonDetail ?? (typeof info?.additionalInfo === "string" ? info.additionalInfo : undefined);
  const result = {
    ocppAction,
    request: answer.request ?? null,
    response: answer.response ?? null,
    ...(reason !== undefined && answer.status === "rejected" ? { reason } : {}),
    ...(reasonDetail !== undefined && answer.status === "rejected" ? { reasonDetail } : {}),
    ...(answer.errorCode !== undefined ? { errorCode: answer.errorCode } : {}),
    ...(answer.errorDescription ? { errorDescription: answer.errorDescription } : {}),
  };
  switch (answer.status) {
    case "accepted":
      return { status: "accepted", result };
    case "rejected":
      return { status: "rejected", result, error: `The station rejected ${ocppAction}${reason ? `: ${reason}` : ""}${reasonDetail ? ` (${reasonDetail})` : ""}.` };
    case "offline":
      return { status: "offline", result: { ...result, offline: true }, error: `Station ${stationId} is offline; nothing was sent.` };
    case "failed":
      return { status: "failed", result, error: `${answer.errorCode ?? "CallError"}: ${answer.errorDescription || `the station could not process ${ocppAction}`}` };
    case "timed_out":
      return { status: "timed_out", result, error: `Station ${stationId} did not answer ${ocppAction} in time; it was sent.` };
  }
};
