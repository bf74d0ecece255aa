import { describe, expect, it } from "vitest";
import { humanizeKey, readableResult } from "./readable-result";

describe("a command's result in fields", () => {
  it("names keys in words", () => {
    expect(humanizeKey("ocppAction")).toBe("OCPP action");
    expect(humanizeKey("reasonCode")).toBe("Reason code");
    expect(humanizeKey("evseId")).toBe("EVSE id");
  });

  it("lays out a rejection as labelled fields, not JSON", () => {
    const r = readableResult({ ocppAction: "SetVariables", reason: "InvalidValue", response: { status: "Rejected", statusInfo: { reasonCode: "InvalidValue" } }, request: null });
    expect(r.fields).toEqual([
      { label: "OCPP action", value: "SetVariables" },
      { label: "Reason", value: "InvalidValue" },
      { label: "Response › Status", value: "Rejected" },
      { label: "Response › Status info › Reason code", value: "InvalidValue" },
      { label: "Request", value: "—" },
    ]);
    expect(r.tables).toEqual([]);
  });

  it("turns a list of records (configuration keys, variable results) into a table", () => {
    const r = readableResult({
      response: {
        configurationKey: [
          { key: "HeartbeatInterval", readonly: false, value: "60" },
          { key: "NumberOfConnectors", readonly: true, value: "2" },
        ],
        unknownKey: ["Foo", "Bar"],
      },
    });
    expect(r.tables).toEqual([
      {
        label: "Response › Configuration key",
        columns: ["Key", "Readonly", "Value"],
        rows: [
          ["HeartbeatInterval", "false", "60"],
          ["NumberOfConnectors", "true", "2"],
        ],
        more: 0,
      },
    ]);
    expect(r.fields).toEqual([{ label: "Response › Unknown key", value: "Foo, Bar" }]);
    const vars = readableResult({ setVariableResult: [{ attributeStatus: "Accepted", component: { name: "OCPPCommCtrlr" }, variable: { name: "HeartbeatInterval" } }] });
    expect(vars.tables[0]!.columns).toEqual(["Attribute status", "Component › Name", "Variable › Name"]);
  });
});
