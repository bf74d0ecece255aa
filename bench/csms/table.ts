import { readFileSync } from "node:fs";

/**
 * Turns the JSON lines written by `bench:csms --json-out FILE` into Markdown tables
 * (the ones in bench/RESULTS.md): `npx tsx bench/csms/table.ts FILE`.
 */

type Result = {
  runId: string;
  at: string;
  args: string[];
  config: { N: number; P: number; broker: string; db: string; rampPerSec: number; durationSec: number };
  row: Record<string, string | number>;
  detail: Record<string, Record<string, string | number>>;
  usage: { othersCpu?: number; postgres?: { cpuAvg: number } };
  facts: Record<string, string | number>;
};

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: npx tsx bench/csms/table.ts results.jsonl\n");
  process.exit(2);
}
const results = readFileSync(file, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Result);

const md = (rows: Record<string, string | number>[]) => {
  if (!rows.length) return "";
  const cols = Object.keys(rows[0]);
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c)).join(" | ")} |`;
  return [line(cols), line(cols.map(() => "---")), ...rows.map((r) => line(cols.map((c) => r[c] ?? "")))].join("\n");
};

const f1 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(0));

process.stdout.write(
  `${md(
    results.map((r) => ({
      run: r.runId,
      db: r.args.includes("inline") ? "none (inline responder)" : r.config.db.startsWith("postgres") ? "postgres" : r.config.db,
      ramp: `${r.config.rampPerSec}/s`,
      ...r.row,
      "steady p99 ms": r.detail["steady calls"]?.["p99 ms"] ?? "–",
      "pg CPU%": r.config.db.startsWith("postgres") ? f1(r.usage.postgres?.cpuAvg) : "–",
      "others CPU%": f1(r.usage.othersCpu),
    })),
  )}\n`,
);
