import "server-only";
import type { ManagerCommandResult } from "../../../contracts/csms/api";
import type { CommandReply } from "../../commands/submit-command";

/**
 * What the manager's answer to a command means for the console's Command: accepted or
 * rejected as the station said; offline is a clear refusal (nothing was sent); a CALLERROR
 * fails it with the station's code; the manager's own timeout is a timeout. The same
 * mapping serves a live answer and one recovered after a console restart.
 */
export const toCommandReply = (answer: ManagerCommandResult, { stationId, action }: { stationId: string; action: string }): CommandReply => {
  const ocppAction = answer.ocppAction ?? action;
  const result = { ocppAction, request: answer.request ?? null, response: answer.response ?? null };
  switch (answer.status) {
    case "accepted":
      return { status: "accepted", result };
    case "rejected": {
      const said = answer.response?.status;
      return { status: "rejected", result, error: `The station rejected ${ocppAction}${typeof said === "string" ? ` (${said})` : ""}.` };
    }
    case "offline":
      return { status: "rejected", result: { ...result, offline: true }, error: `Station ${stationId} is offline; nothing was sent.` };
    case "failed":
      return { status: "failed", result, error: `${answer.errorCode ?? "CallError"}: ${answer.errorDescription || `the station could not process ${ocppAction}`}` };
    case "timed_out":
      return { status: "timed_out", result, error: `Station ${stationId} did not answer ${ocppAction} in time.` };
  }
};
