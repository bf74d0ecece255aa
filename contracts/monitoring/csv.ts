import { DEVICE_ID_FIELD, type Dataset, type DatasetBody } from "./datasets";

/**
 * The flattened `text/csv` form of each dataset: one row per data item, array items as
 * numbered columns (`cell.volts.1`…`cell.volts.14`, `pv.volts.1`…). Columns may come in any
 * order and extra columns are ignored; consecutive rows with one device id form one dataset
 * whose status comes from its first row. A non-zero `cell.open.N` / `fet.open.N` means open.
 * Parsing CSV text is the receiver's business; this module maps named cells to the JSON shape.
 */

const range = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}.${i + 1}`);

const POWER_COLUMNS = [...range("pv.volts", 4), ...range("pv.amps", 4), "battery.volts", "battery.amps", ...range("load.volts", 2), ...range("load.amps", 2)];

/** Every column a dataset knows, in the order writers emit them. */
export const CSV_COLUMNS: Record<Dataset, string[]> = {
  pms: [
    "pms_id", "status.code", "status.temp", "time_local", "pack.id", "pack.dock", "pack.amps",
    ...range("pack.temp", 3), ...range("cell.volts", 14), ...range("cell.open", 14), ...range("fet.temp", 2), ...range("fet.open", 2),
  ],
  mppt: ["mppt_id", "status.code", "time_local", ...POWER_COLUMNS],
  inverter: ["inverter_id", "status.code", "time_local", ...POWER_COLUMNS, ...range("grid.volts", 3), ...range("grid.amps", 3), ...range("grid.pf", 3)],
};

/** Columns that must be in the header (variable-size arrays need only their first item). */
export const CSV_REQUIRED: Record<Dataset, string[]> = {
  pms: CSV_COLUMNS.pms.filter((c) => !c.startsWith("cell.open.") && !c.startsWith("fet.open.")),
  mppt: ["mppt_id", "status.code", "time_local", "pv.volts.1", "pv.amps.1", "battery.volts", "battery.amps", "load.volts.1", "load.amps.1"],
  inverter: ["inverter_id", "status.code", "time_local", "pv.volts.1", "pv.amps.1", "battery.volts", "battery.amps", "load.volts.1", "load.amps.1", "grid.volts.1", "grid.amps.1", "grid.pf.1"],
};

export type CsvRow = Record<string, string | undefined>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Numbers become numbers; anything else stays as text so the schema names the field and the problem. */
const cell = (row: CsvRow, column: string): unknown => {
  const raw = row[column]?.trim();
  if (raw === undefined || raw === "") return undefined;
  return NUMBER.test(raw) ? Number(raw) : raw;
};
const text = (row: CsvRow, column: string) => {
  const raw = row[column]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
};
const fixed = (row: CsvRow, name: string, n: number) => range(name, n).map((c) => cell(row, c));
/** Up to the last filled column; a gap before it stays undefined and is reported as required. */
const variable = (row: CsvRow, name: string, max: number) => {
  const values = fixed(row, name, max);
  let last = values.length;
  while (last > 0 && values[last - 1] === undefined) last -= 1;
  return values.slice(0, last);
};
const flags = (row: CsvRow, name: string, n: number) =>
  range(name, n).flatMap((c, i) => {
    const v = cell(row, c);
    return v !== undefined && v !== 0 ? [i + 1] : [];
  });

const power = (row: CsvRow) => ({
  pv: { volts: variable(row, "pv.volts", 4), amps: variable(row, "pv.amps", 4) },
  battery: { volts: cell(row, "battery.volts"), amps: cell(row, "battery.amps") },
  load: { volts: variable(row, "load.volts", 2), amps: variable(row, "load.amps", 2) },
});

/** One CSV row as a one-item dataset in the JSON shape (not yet validated). */
export const csvRowToDataset = (dataset: Dataset, row: CsvRow): unknown => {
  if (dataset === "pms") {
    return {
      pms_id: text(row, "pms_id"),
      status: { code: text(row, "status.code"), temp: cell(row, "status.temp") },
      data: [
        {
          time_local: text(row, "time_local"),
          pack: {
            id: text(row, "pack.id"),
            dock: cell(row, "pack.dock"),
            amps: cell(row, "pack.amps"),
            temp: fixed(row, "pack.temp", 3),
            cell: { open: flags(row, "cell.open", 14), volts: fixed(row, "cell.volts", 14) },
            fet: { open: flags(row, "fet.open", 2), temp: fixed(row, "fet.temp", 2) },
          },
        },
      ],
    };
  }
  const idField = DEVICE_ID_FIELD[dataset];
  const item = { time_local: text(row, "time_local"), ...power(row) };
  if (dataset === "inverter") {
    Object.assign(item, { grid: { volts: variable(row, "grid.volts", 3), amps: variable(row, "grid.amps", 3), pf: variable(row, "grid.pf", 3) } });
  }
  return { [idField]: text(row, idField), status: { code: text(row, "status.code") }, data: [item] };
};

/**
 * The CSV column a path inside a one-row dataset refers to: `data[0].pack.cell.volts[4]` →
 * `cell.volts.5`, so a CSV sender's error names the column it wrote.
 */
export const csvColumnOf = (path: readonly PropertyKey[]) => {
  const rest = path[0] === "data" ? path.slice(2) : [...path];
  const parts = rest.map((p) => (typeof p === "number" ? String(p + 1) : String(p)));
  if (parts[0] === "pack" && (parts[1] === "cell" || parts[1] === "fet")) parts.shift();
  return parts.join(".");
};

const csvValue = (v: unknown) => (v === undefined || v === null ? "" : String(v));

/** Writes datasets as CSV (header + one row per data item), the way a BBC or EHub would. */
export const datasetsToCsv = <D extends Dataset>(dataset: D, datasets: DatasetBody[D][]) => {
  const columns = CSV_COLUMNS[dataset];
  const lines = [columns.join(",")];
  for (const ds of datasets as unknown as Record<string, unknown>[]) {
    const status = ds.status as Record<string, unknown>;
    for (const item of ds.data as Record<string, unknown>[]) {
      const values: Record<string, unknown> = { [DEVICE_ID_FIELD[dataset]]: ds[DEVICE_ID_FIELD[dataset]], "status.code": status.code, "status.temp": status.temp, time_local: item.time_local };
      const put = (prefix: string, list: unknown[] | undefined) => list?.forEach((v, i) => (values[`${prefix}.${i + 1}`] = v));
      if (dataset === "pms") {
        const pack = item.pack as { id: string; dock: number; amps: number; temp: number[]; cell: { open: number[]; volts: number[] }; fet: { open: number[]; temp: number[] } };
        Object.assign(values, { "pack.id": pack.id, "pack.dock": pack.dock, "pack.amps": pack.amps });
        put("pack.temp", pack.temp);
        put("cell.volts", pack.cell.volts);
        put("fet.temp", pack.fet.temp);
        for (let i = 1; i <= 14; i++) values[`cell.open.${i}`] = pack.cell.open.includes(i) ? 1 : "";
        for (let i = 1; i <= 2; i++) values[`fet.open.${i}`] = pack.fet.open.includes(i) ? 1 : 0;
      } else {
        const p = item as { pv: { volts: number[]; amps: number[] }; battery: { volts: number; amps: number }; load: { volts: number[]; amps: number[] }; grid?: { volts: number[]; amps: number[]; pf: number[] } };
        put("pv.volts", p.pv.volts);
        put("pv.amps", p.pv.amps);
        Object.assign(values, { "battery.volts": p.battery.volts, "battery.amps": p.battery.amps });
        put("load.volts", p.load.volts);
        put("load.amps", p.load.amps);
        if (p.grid) {
          put("grid.volts", p.grid.volts);
          put("grid.amps", p.grid.amps);
          put("grid.pf", p.grid.pf);
        }
      }
      lines.push(columns.map((c) => csvValue(values[c])).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
};
