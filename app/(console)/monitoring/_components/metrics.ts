/**
 * Chartable metrics of a device, as the monitoring service names them
 * (`pack.<pack>.cell.<n>.volts`, `battery.watts`, `grid.2.pf`, a building's `temperature`),
 * grouped into what an operator looks at together, with units and short labels.
 */
export type MetricGroup = { id: string; label: string; metrics: string[] };

const CELL = /^pack\.([^.]+)\.cell\.(\d+)\.volts$/;
const byNumber = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

const POWER = ["pv.watts", "battery.watts", "load.watts", "grid.watts"];

/** Cell voltages per pack first (the pms view), the power flows (mppt / inverter), then one entry per metric. */
export const metricGroups = (metrics: readonly string[]): MetricGroup[] => {
  const packs = new Map<string, string[]>();
  for (const m of metrics) {
    const cell = CELL.exec(m);
    if (cell) packs.set(cell[1]!, [...(packs.get(cell[1]!) ?? []), m]);
  }
  const groups: MetricGroup[] = [...packs.entries()]
    .sort(([a], [b]) => byNumber(a, b))
    .map(([pack, cells]) => ({ id: `cells:${pack}`, label: `Pack ${pack} — cell voltages`, metrics: cells.sort(byNumber) }));
  const power = POWER.filter((m) => metrics.includes(m));
  if (power.length > 1) groups.push({ id: "power", label: "Power — PV, battery, load", metrics: power });
  return [...groups, ...[...metrics].sort(byNumber).map((m) => ({ id: m, label: m, metrics: [m] }))];
};

/** The group a URL names, or the first one. */
export const pickGroup = (groups: readonly MetricGroup[], id: string) => groups.find((g) => g.id === id) ?? groups[0];

const UNITS: [RegExp, string][] = [
  [/(^|\.)spread_mv$/, "mV"],
  [/(^|\.|_)volts$|(^|\.)vc[lh]$/, "V"],
  [/(^|\.|_)amps$/, "A"],
  [/(^|\.|_)watts$/, "W"],
  [/(^|\.|_)temp(_top|_mid|_bottom)?$|(^|\.)temperature$/, "°C"],
  [/(^|\.)humidity$/, "%"],
  [/(^|\.)co2$/, "ppm"],
];

export const unitOf = (metric: string) => UNITS.find(([re]) => re.test(metric))?.[1] ?? "";

/** One unit for the chart's axis when every metric shares it. */
export const commonUnit = (metrics: readonly string[]) => {
  const units = new Set(metrics.map(unitOf));
  return units.size === 1 ? [...units][0]! : "";
};

/** "Cell 3" for a cell of a pack chart, else the metric's own name. */
export const metricLabel = (metric: string) => {
  const cell = CELL.exec(metric);
  return cell ? `Cell ${cell[2]}` : metric;
};

export const formatValue = (v: number | undefined, unit = "") => (v === undefined || Number.isNaN(v) ? "—" : `${Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3)}${unit ? ` ${unit}` : ""}`);
