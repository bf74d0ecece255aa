import { describe, expect, it } from "vitest";
import { actionLabel, buildSpec, initialParams, paramFields, suggestionsFor } from "./command-form";

const names = (action: Parameters<typeof paramFields>[0], protocol?: Parameters<typeof paramFields>[1]) => paramFields(action, protocol).map((f) => f.name);

describe("the command forms, from the catalogue", () => {
  it("ask for what the station's version takes", () => {
    expect(names("changeConfiguration", "ocpp1.6")).toEqual(["key", "value"]);
    expect(names("changeConfiguration", "ocpp2.0.1")).toEqual(["component", "variable", "value"]);
    expect(names("setChargingProfile", "ocpp1.6")).toEqual(["connectorId", "limitW"]);
    expect(names("setChargingProfile", "ocpp2.0.1")).toEqual(["connectorId", "evseId", "limitW"]);
    expect(paramFields("triggerMessage", "ocpp1.6")[0]!.options).not.toContain("TransactionEvent");
    expect(actionLabel("changeConfiguration", "ocpp2.0.1")).toBe("Set variables");
    expect(actionLabel("changeConfiguration", "ocpp1.6")).toBe("Change configuration");
  });

  it("build a checked spec, with errors in words", () => {
    expect(buildSpec("changeConfiguration", { key: "HeartbeatInterval", value: "120" }, "ocpp1.6")).toEqual({
      spec: { action: "changeConfiguration", params: { key: "HeartbeatInterval", value: "120" } },
      errors: {},
    });
    expect(buildSpec("changeConfiguration", { component: "OCPPCommCtrlr", variable: "HeartbeatInterval", value: "120" }, "ocpp2.0.1").spec).toEqual({
      action: "changeConfiguration",
      params: { component: "OCPPCommCtrlr", variable: "HeartbeatInterval", value: "120" },
    });
    expect(buildSpec("changeConfiguration", { component: "", variable: "HeartbeatInterval", value: "1" }, "ocpp2.0.1").errors).toEqual({ component: "Component is required." });
    expect(buildSpec("changeConfiguration", { component: "bad name!", variable: "X", value: "1" }, "ocpp2.0.1").errors.component).toMatch(/Name\[:instance\]/);
    expect(buildSpec("changeConfiguration", { key: "", value: "1" }, "ocpp1.6").errors).toEqual({ key: "Key is required." });
    expect(buildSpec("setChargingProfile", { connectorId: "1", limitW: "-5" }, "ocpp1.6").errors.limitW).toBeDefined();
    expect(buildSpec("setChargingProfile", { connectorId: "1", limitW: "7400" }, "ocpp1.6").spec).toEqual({ action: "setChargingProfile", params: { connectorId: 1, limitW: 7400 } });
  });

  it("read chosen keys, and check 2.0.1 keys are Component.Variable", () => {
    expect(buildSpec("getConfiguration", { keys: "HeartbeatInterval, MeterValueSampleInterval" }, "ocpp1.6").spec).toEqual({
      action: "getConfiguration",
      params: { keys: ["HeartbeatInterval", "MeterValueSampleInterval"] },
    });
    expect(buildSpec("getConfiguration", { keys: "" }, "ocpp1.6").spec).toEqual({ action: "getConfiguration", params: {} });
    expect(buildSpec("getConfiguration", { keys: "HeartbeatInterval" }, "ocpp2.0.1").errors.keys).toMatch(/Component\.Variable/);
    expect(buildSpec("getConfiguration", { keys: "OCPPCommCtrlr.HeartbeatInterval" }, "ocpp2.0.1").spec).toBeDefined();
  });

  it("suggest what the station reported", () => {
    const keys = ["OCPPCommCtrlr.HeartbeatInterval", "EVSE@1.AvailabilityState", "OCPPCommCtrlr.MessageTimeout"];
    const [component, variable] = paramFields("changeConfiguration", "ocpp2.0.1");
    expect(suggestionsFor(component!, { keys })).toEqual(["EVSE@1", "OCPPCommCtrlr"]);
    expect(suggestionsFor(variable!, { keys })).toEqual(["AvailabilityState", "HeartbeatInterval", "MessageTimeout"]);
    expect(initialParams("reset", "ocpp1.6")).toEqual({ type: "soft" });
    // Before the station reported any, the specification's own keys.
    const [keysField] = paramFields("getConfiguration", "ocpp1.6");
    expect(suggestionsFor(keysField!, { protocol: "ocpp1.6", keys: [] })).toContain("HeartbeatInterval");
    expect(suggestionsFor(component!, { protocol: "ocpp2.0.1", keys: [] })).toContain("OCPPCommCtrlr");
  });
});
