import { describe, expect, it } from "vitest";
import { commonUnit, metricGroups, metricLabel, pickGroup, unitOf } from "./metrics";

describe("device metrics", () => {
  const metrics = ["status.temp", "pack.P002.cell.1.volts", "pack.P001.cell.10.volts", "pack.P001.cell.2.volts", "pack.P001.volts", "pack.P001.spread_mv"];

  it("groups a pack's cell voltages (in cell order) ahead of single metrics", () => {
    const groups = metricGroups(metrics);
    expect(groups[0]).toEqual({ id: "cells:P001", label: "Pack P001 — cell voltages", metrics: ["pack.P001.cell.2.volts", "pack.P001.cell.10.volts"] });
    expect(groups[1]!.id).toBe("cells:P002");
    expect(groups.slice(2).map((g) => g.id)).toContain("status.temp");
    expect(pickGroup(groups, "status.temp")!.metrics).toEqual(["status.temp"]);
    expect(pickGroup(groups, "nope")!.id).toBe("cells:P001");
  });

  it("offers the power flows of a charge controller or inverter as one chart", () => {
    const groups = metricGroups(["battery.amps", "load.watts", "pv.watts", "battery.watts", "pv.1.volts"]);
    expect(groups[0]).toEqual({ id: "power", label: "Power — PV, battery, load", metrics: ["pv.watts", "battery.watts", "load.watts"] });
  });

  it("knows units and labels", () => {
    expect(unitOf("pack.P001.cell.3.volts")).toBe("V");
    expect(unitOf("pack.P001.spread_mv")).toBe("mV");
    expect(unitOf("battery.in_watts")).toBe("W");
    expect(unitOf("pack.P001.temp_top")).toBe("°C");
    expect(unitOf("grid.1.pf")).toBe("");
    expect(commonUnit(["pv.1.volts", "battery.volts"])).toBe("V");
    expect(commonUnit(["pv.1.volts", "battery.amps"])).toBe("");
    expect(metricLabel("pack.P001.cell.3.volts")).toBe("Cell 3");
    expect(metricLabel("battery.volts")).toBe("battery.volts");
  });
});
