import { parse as parseCsv } from "csv-parse/sync";
import { HttpError } from "../../lib/http";
import {
  CSV_REQUIRED,
  csvColumnOf,
  csvRowToDataset,
  datasetHeaderSchemas,
  datasetItemSchemas,
  DEVICE_ID_FIELD,
  formatPath,
  issuesOf,
  parseTimeLocal,
  requestBodySchema,
  type CsvRow,
  type Dataset,
  type DatasetBody,
  type FieldIssue,
} from "../../../contracts/monitoring";

/**
 * The batch rule (services/monitoring/README.md "Batch rule"):
 * - A body that cannot be read as a whole (not JSON / not CSV, no `datasets` array, missing
 *   CSV columns) is refused with 400 and nothing is stored.
 * - Otherwise every data item (one stored record) is checked on its own, with its dataset's
 *   id and status. An item that is invalid in any field — or whose dataset header is — is
 *   rejected whole: nothing of it is stored. Every valid item is stored.
 * - The answer lists every bad field with its path; 400 when anything was rejected
 *   (with `accepted` / `rejected` counts), 200 (or 201) when nothing was.
 */
export type ParsedBody<D extends Dataset = Dataset> = { datasets: DatasetBody[D][]; issues: FieldIssue[]; total: number; rejected: number };

export type TimeRules = { now: number; maxFutureMs: number; maxAgeMs: number };

/** Plausibility beyond the schema (feature flag `validation`): values no healthy sensor reads. */
const plausibility = (dataset: Dataset, item: Record<string, unknown>): { path: (string | number)[]; message: string }[] => {
  const out: { path: (string | number)[]; message: string }[] = [];
  const check = (path: (string | number)[], v: number, max: number, unit: string) => {
    if (Math.abs(v) > max) out.push({ path, message: `is implausible (beyond ${max} ${unit})` });
  };
  if (dataset === "pms") {
    const pack = item.pack as { amps: number; temp: number[]; cell: { volts: number[] }; fet: { temp: number[] } };
    pack.cell.volts.forEach((v, i) => check(["pack", "cell", "volts", i], v, 5, "V"));
    pack.temp.forEach((v, i) => check(["pack", "temp", i], v, 150, "°C"));
    pack.fet.temp.forEach((v, i) => check(["pack", "fet", "temp", i], v, 150, "°C"));
    check(["pack", "amps"], pack.amps, 1000, "A");
    return out;
  }
  const p = item as { pv: { volts: number[]; amps: number[] }; battery: { volts: number; amps: number }; load: { volts: number[]; amps: number[] }; grid?: { volts: number[]; amps: number[] } };
  p.pv.volts.forEach((v, i) => check(["pv", "volts", i], v, 1500, "V"));
  p.pv.amps.forEach((v, i) => check(["pv", "amps", i], v, 1000, "A"));
  check(["battery", "volts"], p.battery.volts, 1000, "V");
  check(["battery", "amps"], p.battery.amps, 1000, "A");
  p.load.volts.forEach((v, i) => check(["load", "volts", i], v, 1000, "V"));
  p.grid?.volts.forEach((v, i) => check(["grid", "volts", i], v, 1000, "V"));
  return out;
};

const timeIssue = (timeLocal: string, rules: TimeRules) => {
  const t = parseTimeLocal(timeLocal);
  if ("error" in t) return t.error;
  if (t.utcMs > rules.now + rules.maxFutureMs) return `is ${Math.round((t.utcMs - rules.now) / 1000)} s in the future (at most ${rules.maxFutureMs / 1000} s of clock skew is allowed)`;
  if (t.utcMs < rules.now - rules.maxAgeMs) return `is older than the ${Math.round(rules.maxAgeMs / 86_400_000)}-day landing zone`;
  return undefined;
};

type Located = { prefix: string; column?: (path: readonly PropertyKey[]) => string };
const at = (where: Located, path: readonly PropertyKey[]) => (where.column ? `${where.prefix}.${where.column(path)}` : formatPath(path, where.prefix));

/** Checks one dataset (header + items); valid items are returned, the rest reported. */
const checkDataset = <D extends Dataset>(dataset: D, raw: unknown, where: Located, rules: TimeRules, deep: boolean, issues: FieldIssue[]) => {
  const header = datasetHeaderSchemas[dataset].safeParse(raw);
  const items = Array.isArray((raw as { data?: unknown })?.data) ? ((raw as { data: unknown[] }).data) : [];
  if (!header.success) {
    for (const i of header.error.issues) {
      const keys = i.code === "unrecognized_keys" ? i.keys.map((k) => [...i.path, k]) : [i.path];
      for (const path of keys) issues.push({ path: at(where, path) || where.prefix, message: i.code === "unrecognized_keys" ? "is not a known field" : i.message });
    }
    return { valid: undefined, total: Math.max(1, items.length), rejected: Math.max(1, items.length) };
  }
  const valid: unknown[] = [];
  items.forEach((item, j) => {
    const parsed = datasetItemSchemas[dataset].safeParse(item);
    const itemWhere: Located = where.column ? where : { prefix: `${where.prefix}.data[${j}]` };
    const inner = where.column ? (p: readonly PropertyKey[]) => ["data", j, ...p] : (p: readonly PropertyKey[]) => p;
    if (!parsed.success) {
      for (const i of issuesOf(parsed.error)) issues.push({ path: where.column ? `${where.prefix}.${i.path.replace(/\[(\d+)\]/g, (_, n) => `.${Number(n) + 1}`).replace(/^pack\.(cell|fet)\./, "$1.")}` : `${itemWhere.prefix}.${i.path}`, message: i.message });
      return;
    }
    const problems: { path: readonly PropertyKey[]; message: string }[] = [];
    const timeProblem = timeIssue(parsed.data.time_local, rules);
    if (timeProblem) problems.push({ path: ["time_local"], message: timeProblem });
    if (deep) problems.push(...plausibility(dataset, parsed.data as Record<string, unknown>));
    if (problems.length) {
      for (const p of problems) issues.push({ path: where.column ? `${where.prefix}.${where.column(inner(p.path))}` : formatPath(p.path, itemWhere.prefix), message: p.message });
      return;
    }
    valid.push(parsed.data);
  });
  return { valid: valid.length ? ({ ...header.data, data: valid } as unknown as DatasetBody[D]) : undefined, total: items.length, rejected: items.length - valid.length };
};

export const parseJsonBody = <D extends Dataset>(dataset: D, text: string, rules: TimeRules, deep: boolean): ParsedBody<D> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the request body is not valid JSON");
  }
  const body = requestBodySchema.safeParse(json);
  if (!body.success) throw new HttpError(400, "invalid_input", "the body must be {\"datasets\": [...]}", issuesOf(body.error));
  const issues: FieldIssue[] = [];
  const datasets: DatasetBody[D][] = [];
  let total = 0;
  let rejected = 0;
  body.data.datasets.forEach((raw, i) => {
    const r = checkDataset(dataset, raw, { prefix: `datasets[${i}]` }, rules, deep, issues);
    total += r.total;
    rejected += r.rejected;
    if (r.valid) datasets.push(r.valid);
  });
  return { datasets, issues, total, rejected };
};

export const parseCsvBody = <D extends Dataset>(dataset: D, text: string, rules: TimeRules, deep: boolean): ParsedBody<D> => {
  let rows: CsvRow[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as CsvRow[];
  } catch (error) {
    throw new HttpError(400, "invalid_csv", `the request body is not valid CSV: ${(error as Error).message}`);
  }
  if (rows.length === 0) throw new HttpError(400, "invalid_csv", "the CSV has a header row but no data rows");
  const header = new Set(Object.keys(rows[0]));
  const missing = CSV_REQUIRED[dataset].filter((c) => !header.has(c));
  if (missing.length) throw new HttpError(400, "invalid_csv", `the CSV header lacks ${missing.length} required column(s)`, missing.map((c) => ({ path: `columns.${c}`, message: "is required" })));
  const issues: FieldIssue[] = [];
  const datasets: DatasetBody[D][] = [];
  let rejected = 0;
  const idField = DEVICE_ID_FIELD[dataset] as string;
  rows.forEach((row, r) => {
    // Line numbers as an editor shows them: the header is line 1.
    const check = checkDataset(dataset, csvRowToDataset(dataset, row), { prefix: `line[${r + 2}]`, column: csvColumnOf }, rules, deep, issues);
    rejected += check.rejected;
    if (!check.valid) return;
    const valid = check.valid as unknown as Record<string, unknown> & { data: unknown[] };
    const previous = datasets.at(-1) as unknown as (Record<string, unknown> & { data: unknown[] }) | undefined;
    // Consecutive rows of one device form one dataset; its status comes from its first row.
    if (previous && previous[idField] === valid[idField]) previous.data.push(...valid.data);
    else datasets.push(valid as unknown as DatasetBody[D]);
  });
  return { datasets, issues, total: rows.length, rejected };
};
