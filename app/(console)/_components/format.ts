const pad = (n: number, width = 2) => String(n).padStart(width, "0");

const toDate = (value: Date | string | number) => (value instanceof Date ? value : new Date(value));

/** "2025-11-23 14:05:09" in the browser's time zone: sortable, compact, unambiguous. */
export const formatDateTime = (value: Date | string | number | null | undefined) => {
  if (value === null || value === undefined) return "—";
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

/** "14:05:09" for today, the full date and time otherwise. */
export const formatTimeShort = (value: Date | string | number | null | undefined, now = Date.now()) => {
  if (value === null || value === undefined) return "—";
  const d = toDate(value);
  const today = new Date(now);
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : formatDateTime(d);
};

/** An age in words: "4s", "3m", "2h", "5d". */
export const formatAge = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
};

/** A duration between two instants: "850 ms", "4.2 s". */
export const formatDuration = (ms: number | null | undefined) => {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
};

/** `<input type="datetime-local">` value ("2025-11-23T14:05") for a date, in local time. */
export const toDateTimeLocal = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** A short one-line rendering of a JSON value, for table cells. */
export const summarize = (value: unknown, max = 80) => {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/**
 * A stored error in words: validation errors arrive as a JSON list of issues, which reads
 * better as "email: not a valid email address; name: required".
 */
export const describeError = (error: string) => {
  if (!error.startsWith("[")) return error;
  try {
    const issues = JSON.parse(error) as { path?: unknown[]; message?: string }[];
    if (!Array.isArray(issues)) return error;
    return issues.map((i) => (i.path?.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
  } catch {
    return error;
  }
};
