import { describe, expect, it } from "vitest";
import { toCommandReply } from "./command-reply";

const about = { stationId: "SIM00001", action: "reset" };

describe("a manager's command result as the console's outcome", () => {
  it("keeps offline apart from rejected: nothing was sent", () => {
    expect(toCommandReply({ status: "offline", ocppAction: "Reset", sent: false }, about)).toMatchObject({
      status: "offline",
      error: "Station SIM00001 is offline; nothing was sent.",
      result: { ocppAction: "Reset", offline: true },
    });
  });

  it("carries the station's reason for a rejection: the manager's, statusInfo's or a variable's", () => {
    expect(toCommandReply({ status: "rejected", ocppAction: "Reset", reason: "TxInProgress", response: { status: "Rejected" } }, about)).toMatchObject({
      status: "rejected",
      error: "The station rejected Reset: TxInProgress.",
      result: { reason: "TxInProgress" },
    });
    expect(toCommandReply({ status: "rejected", ocppAction: "Reset", response: { status: "Rejected", statusInfo: { reasonCode: "TxInProgress", additionalInfo: "EVSE 1 busy" } } }, about)).toMatchObject({
      result: { reason: "TxInProgress", reasonDetail: "EVSE 1 busy" },
    });
    const set = toCommandReply(
      {
        status: "rejected",
        ocppAction: "SetVariables",
        response: { setVariableResult: [{ attributeStatus: "Rejected", attributeStatusInfo: { reasonCode: "InvalidValue", additionalInfo: "not a non-negative integer" } }] },
      },
      about,
    );
    expect(set).toMatchObject({ error: "The station rejected SetVariables: InvalidValue (not a non-negative integer).", result: { reason: "InvalidValue", reasonDetail: "not a non-negative integer" } });
    expect(toCommandReply({ status: "rejected", ocppAction: "ChangeConfiguration", response: { status: "NotSupported" } }, about).result).toMatchObject({ reason: "NotSupported" });
  });

  it("fails a CALLERROR with its code and description, and times out a silent station", () => {
    expect(toCommandReply({ status: "failed", ocppAction: "Reset", errorCode: "NotImplemented", errorDescription: "no such action" }, about)).toMatchObject({
      status: "failed",
      error: "NotImplemented: no such action",
      result: { errorCode: "NotImplemented", errorDescription: "no such action" },
    });
    expect(toCommandReply({ status: "timed_out", ocppAction: "Reset" }, about)).toMatchObject({ status: "timed_out", error: expect.stringMatching(/did not answer Reset in time/) });
  });
});
