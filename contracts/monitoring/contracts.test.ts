import { describe, expect, it } from "vitest";
import {
  csvRowToDataset,
  datasetSchemas,
  datasetsToCsv,
  decodeMpptStatus,
  encodeMpptStatus,
  formatEpoch,
  formatTimeLocal,
  parseEpoch,
  parseTimeLocal,
  periodRange,
  type CsvRow,
} from ".";

describe("time_local", () => {
  it("parses the documented forms and refuses local time without an offset", () => {
    expect(parseTimeLocal("20200209T150006.032+0700")).toEqual({ utcMs: Date.UTC(2020, 1, 9, 8, 0, 6, 32), offsetMinutes: 420 });
    expect(parseTimeLocal("20200209T150006Z")).toEqual({ utcMs: Date.UTC(2020, 1, 9, 15, 0, 6), offsetMinutes: 0 });
    expect(parseTimeLocal("20200209T150006.5-05:30")).toEqual({ utcMs: Date.UTC(2020, 1, 9, 20, 30, 6, 500), offsetMinutes: -330 });
    expect(parseTimeLocal("20200209T150006.032")).toEqual({ error: expect.stringContaining("needs a UTC offset") });
    expect(parseTimeLocal("20200230T150006Z")).toEqual({ error: "is not a valid calendar date and time" });
    expect(parseTimeLocal(formatTimeLocal(Date.UTC(2026, 0, 1, 0, 0, 0, 7), 60))).toEqual({ utcMs: Date.UTC(2026, 0, 1, 0, 0, 0, 7), offsetMinutes: 60 });
  });
});

describe("periods", () => {
  it("align weeks to Monday in the epoch's offset and count negative durations back", () => {
    const e = parseEpoch("20190207+0700");
    if ("error" in e) throw new Error(e.error);
    const week = periodRange("week", e, 1);
    expect(week.from).toBe(Date.UTC(2019, 1, 4) - 7 * 3_600_000);
    expect(week.to - week.from).toBe(7 * 86_400_000);
    const back = periodRange("day", e, -3);
    expect(back.starts).toHaveLength(3);
    expect(back.to).toBe(Date.UTC(2019, 1, 7) - 7 * 3_600_000);
    expect(formatEpoch(week.from, 420)).toBe("20190204T0000+0700");
    const month = periodRange("quarter", { localMs: Date.UTC(2019, 4, 17), offsetMinutes: 0 }, 2);
    expect(month.starts).toEqual([Date.UTC(2019, 3, 1), Date.UTC(2019, 6, 1)]);
    expect(parseEpoch("2019")).toEqual({ localMs: Date.UTC(2019, 0, 1), offsetMinutes: 0 });
    expect(parseEpoch("2019-02-01")).toHaveProperty("error");
  });
});

describe("status bits", () => {
  it("decode the Sundaya example 0801 as float charging on standby, and round-trip", () => {
    expect(decodeMpptStatus("0801")).toMatchObject({ bus_connect: true, charging: "float", standby: "standby", input: "normal", load: "ok" });
    const s = { charging: "boost" as const, standby: "running" as const, load: "short" as const, input: "no-power" as const, system: "fault" as const };
    expect(decodeMpptStatus(encodeMpptStatus(s))).toMatchObject(s);
  });
});

describe("CSV", () => {
  it("reads the documented pms sample row and writes what it reads", () => {
    const header = "pms_id,status.code,status.temp,time_local,pack.id,pack.dock,pack.amps,pack.temp.1,pack.temp.2,pack.temp.3,cell.volts.1,cell.volts.2,cell.volts.3,cell.volts.4,cell.volts.5,cell.volts.6,cell.volts.7,cell.volts.8,cell.volts.9,cell.volts.10,cell.volts.11,cell.volts.12,cell.volts.13,cell.volts.14,cell.open.1,cell.open.2,cell.open.3,cell.open.4,cell.open.5,cell.open.6,cell.open.7,cell.open.8,cell.open.9,cell.open.10,cell.open.11,cell.open.12,cell.open.13,cell.open.14,fet.temp.1,fet.temp.2,fet.open.1,fet.open.2".split(",");
    const values = "25,0001,48.3,20200210T115900.000+0700,269,6,-1.3,33,32,31,3.793,3.796,3.78,3.788,3.797,3.795,3.792,3.796,3.788,3.779,3.795,3.795,3.788,3.793,,,,,,,,,,,,,,,30,29,1,1".split(",");
    const row: CsvRow = Object.fromEntries(header.map((h, i) => [h, values[i]]));
    const ds = datasetSchemas.pms.parse(csvRowToDataset("pms", row));
    expect(ds).toMatchObject({ pms_id: "25", status: { code: "0001", temp: 48.3 }, data: [{ pack: { id: "269", dock: 6, amps: -1.3, fet: { open: [1, 2] }, cell: { open: [] } } }] });
    const csv = datasetsToCsv("pms", [ds]).trim().split("\n");
    expect(csv[0]).toBe(header.join(","));
  });
});
