import { describe, expect, it } from "vitest";
import type { CommandView } from "@/contracts/console/commands";
import { describeCommand, newer } from "./command-outcome";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));

const command = (patch: Partial<CommandView>): CommandView => ({
  id: "c1",
  idempotencyKey: "k",
  actorId: "u",
  actorEmail: "support@switchyard.local",
  domain: "charging",
  target: "SIM00001",
  action: "reset",
  payload: {},
  status: "sent",
  result: null,
  error: null,
  traceId: "t",
  createdAt: at(0),
  sentAt: at(0),
  completedAt: null,
  ...patch,
});

describe("describeCommand", () => {
  it("says what a command is waiting for", () => {
    expect(describeCommand(command({ status: "pending", sentAt: null })).text).toBe("Queued — not sent yet");
    expect(describeCommand(command({ status: "sent" })).text).toBe("Sent — waiting for the station…");
    expect(describeCommand(command({ status: "sent", domain: "system" })).text).toBe("Sent — waiting for the site…");
  });

  it("says Accepted, with what the station said when that is more than Accepted", () => {
    expect(describeCommand(command({ status: "accepted", result: { response: { status: "Accepted" } } }))).toEqual({ tone: "ok", text: "Accepted" });
    expect(describeCommand(command({ status: "accepted", result: { response: { status: "Scheduled" } } })).text).toBe("Accepted (Scheduled)");
    expect(describeCommand(command({ domain: "system", status: "accepted", result: { roundTripMs: 12 } })).text).toBe("Accepted — the site answered in 12 ms");
  });

  it("gives the station's reason for a rejection", () => {
    const rejected = command({ status: "rejected", error: "The station rejected Reset (Rejected).", result: { response: { status: "Rejected", statusInfo: { reasonCode: "TxInProgress" } } } });
    expect(describeCommand(rejected)).toEqual({ tone: "danger", text: "Rejected by the station: TxInProgress" });
    expect(describeCommand(command({ status: "rejected", result: { response: { status: "Rejected" } } })).text).toBe("Rejected by the station");
    expect(describeCommand(command({ status: "rejected", result: { response: { status: "NotSupported" } } })).text).toBe("Rejected by the station: NotSupported");
  });

  it("says an offline station got nothing", () => {
    const offline = command({ status: "rejected", error: "Station SIM00001 is offline; nothing was sent.", result: { ocppAction: "Reset", response: null, offline: true } });
    expect(describeCommand(offline)).toEqual({ tone: "warn", text: "Station offline — nothing was sent" });
  });

  it("keeps offline, rejected, failed and timed out apart, with the station's own words", () => {
    expect(describeCommand(command({ status: "offline", error: "Station SIM00001 is offline; nothing was sent.", result: { ocppAction: "Reset", offline: true } }))).toEqual({
      tone: "warn",
      text: "Station offline — nothing was sent",
    });
    expect(describeCommand(command({ status: "rejected", result: { reason: "TxInProgress", reasonDetail: "session on EVSE 1", response: { status: "Rejected" } } })).text).toBe(
      "Rejected by the station: TxInProgress (session on EVSE 1)",
    );
    expect(describeCommand(command({ status: "failed", error: "FormationViolation: bad payload", result: { errorCode: "FormationViolation", errorDescription: "bad payload" } })).text).toBe(
      "Failed — the station answered FormationViolation: bad payload",
    );
    expect(describeCommand(command({ status: "timed_out", completedAt: at(30) })).text).toBe("Timed out: no answer in 30 s");
  });

  it("says how long it waited before timing out", () => {
    expect(describeCommand(command({ status: "timed_out", completedAt: at(20), error: "Station SIM00001 did not answer Reset in time." })).text).toBe("Timed out: no answer in 20 s");
    expect(describeCommand(command({ status: "timed_out", sentAt: null, createdAt: null as never, error: "no answer within 10 s" })).text).toBe("Timed out: no answer in 10 s");
  });

  it("passes a failure's reason on in words", () => {
    expect(describeCommand(command({ status: "failed", error: "NotSupported: the station could not process Reset" })).text).toBe("Failed: NotSupported: the station could not process Reset");
    expect(describeCommand(command({ status: "failed", error: '[{"path":["connectorId"],"message":"required"}]' })).text).toBe("Failed: connectorId: required");
  });
});

describe("newer", () => {
  it("keeps the copy further along its lifecycle", () => {
    const sent = command({ status: "sent" });
    expect(newer(sent, command({ status: "pending" }))).toBe(sent);
    const done = command({ status: "accepted" });
    expect(newer(sent, done)).toBe(done);
    expect(newer(sent, undefined)).toBe(sent);
  });
});
