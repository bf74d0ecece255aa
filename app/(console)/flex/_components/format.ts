/** Watts as people read them: W, kW or MW. */
export const formatW = (w: number | null | undefined) => {
  if (w === null || w === undefined || !Number.isFinite(w)) return "—";
  const a = Math.abs(w);
  if (a >= 1_000_000) return `${(w / 1_000_000).toFixed(2)} MW`;
  if (a >= 1000) return `${(w / 1000).toFixed(1)} kW`;
  return `${Math.round(w)} W`;
};

/** EUR/MWh with two decimals. */
export const formatPrice = (p: number | null | undefined) => (p === null || p === undefined ? "—" : `${p.toFixed(2)} €/MWh`);

/** EUR: two decimals, four below 10 € (short windows settle for cents). */
export const formatEur = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${v.toFixed(Math.abs(v) < 10 ? 4 : 2)} €`);

const pad = (n: number) => String(n).padStart(2, "0");
/** Local wall-clock time of an epoch ms, with seconds (windows can be short). */
export const clock = (ms: number) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

/** "14:10:00–14:20:00" for a delivery window. */
export const formatWindow = (from: number, to: number) => `${clock(from)}–${clock(to)}`;

/** A duration in windows' terms: "10 min", "30 s". */
export const formatPeriod = (ms: number) => (ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`);
